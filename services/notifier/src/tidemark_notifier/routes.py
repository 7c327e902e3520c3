"""Notifier routes: what was sent, to whom, through which channel, its state; bounces in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from tidekit.runtime import ServiceRuntime
from tidekit.web.problems import Problem, problem_responses
from tidekit.web.staff import KEYED_ROUTE_RESPONSES, MailGateway, Staff

from .bounces import NotADsn, parse_dsn

router = APIRouter(prefix="/v1", responses=KEYED_ROUTE_RESPONSES, tags=["notifications"])
MAX_DSN_BYTES = 1024 * 1024


async def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


class NotificationOut(BaseModel):
    notification_id: str
    tid: str
    kind: str
    channel: str
    audience: str
    recipient: str
    subject: str
    message_id: str
    state: str  # pending | sent | failed | bounced
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    bounced_at: datetime | None
    bounce_reason: str | None


class BounceOut(BaseModel):
    notification_id: str
    tid: str
    message_id: str
    state: str
    action: str
    reason: str


_COLUMNS = ", ".join(f for f in NotificationOut.model_fields if f != "notification_id")


@router.get("/notifications", response_model=list[NotificationOut])
async def list_notifications(
    runtime: Runtime, _staff: Staff, tid: Annotated[str, Query(min_length=1, max_length=50)]
) -> list[NotificationOut]:
    """What was sent about a ticket, to whom, through which channel (staff only)."""
    rows = await runtime.require_pool().fetch(
        f"SELECT notification_id, {_COLUMNS} FROM notifications WHERE tid = $1 "
        "ORDER BY created_at, kind, channel",
        tid,
    )
    return [
        NotificationOut(**{**dict(r), "notification_id": str(r["notification_id"])}) for r in rows
    ]


@router.post(
    "/bounces",
    response_model=BounceOut,
    summary="A delivery-status notification (RFC 3464) for one of our messages, raw",
    responses=problem_responses(404, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                # the same bytes for clients (and OpenAPI tools) that only send octet-streams
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def receive_bounce(request: Request, runtime: Runtime, _gateway: MailGateway) -> BounceOut:
    """Posted by the mail gateway, with its frontend key (the `email` channel)."""
    raw = await request.body()
    if len(raw) > MAX_DSN_BYTES:
        raise Problem(413, "DSN too large", f"a DSN may be at most {MAX_DSN_BYTES} bytes")
    try:
        bounce = parse_dsn(raw)
    except NotADsn as exc:
        raise Problem(422, "Not a delivery-status notification", str(exc)) from None
    out = await runtime.bus.handle(bounce)
    if out is None:
        raise Problem(404, "Unknown message", f"no notification has Message-ID {bounce.message_id}")
    return BounceOut(**out)
