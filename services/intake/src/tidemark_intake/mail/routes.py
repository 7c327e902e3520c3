"""POST /v1/inbound/email: a raw RFC 5322 message from a mail provider's webhook or gateway.

The same path as the SMTP listener (MailIntake.receive); the answer says what became of it.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from tidekit.web.problems import Problem
from tidemark_intake.deps import KEY_AND_DATABASE_ERRORS, ApiCaller

from .intake import MailIntake

router = APIRouter(prefix="/v1", tags=["inbound e-mail"])
MAIL_TYPES = ("message/rfc822", "application/octet-stream")
_EXAMPLE = (
    "From: Ada Lovelace <ada@example.com>\r\nTo: support@example.com\r\n"
    "Subject: Re: [TID-1042] Checkout fails\r\nMessage-ID: <r-1@example.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nStill failing after the update.\r\n"
)


class InboundMailResult(BaseModel):
    outcome: Literal["created", "appended", "duplicate", "ignored"] = Field(
        description="created: a new ticket; appended: a message on the [TID-n] ticket; "
        "duplicate: this Message-ID was already received; ignored: an automatic message "
        "or our own (mail loop), recorded and dropped"
    )
    tid: str | None = None
    access_token: str | None = Field(
        default=None, description="For a ticket this mail created: opens that ticket only"
    )
    reason: str | None = Field(
        default=None, description="Why it was ignored, or why a [TID-n] was not appended to"
    )


def get_mail_intake(request: Request) -> MailIntake:
    intake: MailIntake = request.app.state.mail_intake
    return intake


@router.post(
    "/inbound/email",
    status_code=status.HTTP_201_CREATED,
    response_model=InboundMailResult,
    response_model_exclude_none=True,
    responses={
        200: {"description": "Appended to the ticket in the subject, or a duplicate delivery"},
        403: {"description": "The key may not post on the email channel (mail gateway keys may)"},
        202: {"description": "A mail loop (auto-reply, bulk, our own mail): recorded, no ticket"},
        413: {"description": "Message, subject or text over the configured limit"},
        415: {"description": "The body is not message/rfc822"},
        422: {"description": "Malformed MIME or a refused attachment; the detail says which"},
        **KEY_AND_DATABASE_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": _EXAMPLE,
                },
                # the same bytes for clients (and OpenAPI tools) that only send octet-streams
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def inbound_email(
    request: Request, response: Response, caller: ApiCaller
) -> InboundMailResult:
    """Take in one raw e-mail (RFC 5322 bytes as the body, `Content-Type: message/rfc822`),
    from a mail gateway whose API key may post on the `email` channel.

    `[TID-<n>]` in the subject appends to ticket n when the sender is its requester or
    registered on its license; otherwise a new ticket is made. Auto-replies and our own
    notifications never make tickets. The same Message-ID twice makes one ticket/message."""
    if not caller.may_post_on("email"):
        raise Problem(403, "Channel not allowed", "this key may not post on the email channel")
    intake = get_mail_intake(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MAIL_TYPES:
        raise Problem(415, "Unsupported media type", "send the raw e-mail as message/rfc822")
    limit = intake.settings.max_mail_bytes
    too_large = f"the message is larger than the limit of {limit} bytes"
    declared = request.headers.get("content-length", "")
    chunks: list[bytes] = []
    size = int(declared) if declared.isdigit() else 0
    if size <= limit:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    if size > limit:  # recorded like every refused mail, with what arrived of it
        pool = intake.runtime.require_pool()
        await intake.refuse(pool, b"".join(chunks), "http", None, "too_large", too_large)
        raise Problem(413, "Message too large", too_large)
    result = await intake.receive(b"".join(chunks), "http")
    if result.outcome == "refused":
        if result.refusal == "too_large":
            raise Problem(413, "Message too large", result.reason or "")
        title = "Attachment refused" if result.refusal == "attachment" else "Malformed e-mail"
        raise Problem(422, title, result.reason or "")
    if result.outcome == "ignored":
        response.status_code = status.HTTP_202_ACCEPTED
    elif result.outcome in ("appended", "duplicate"):
        response.status_code = status.HTTP_200_OK
    return InboundMailResult(
        outcome=result.outcome,
        tid=result.tid,
        access_token=result.access_token,
        reason=result.reason,
    )
