"""Commands on an existing ticket (SPEC 2, 3.1): messages, status, reopen, rating, review."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from tidekit.web.problems import Problem

from . import attachments as att
from . import projection
from .action_models import ActionResult, MessageIn, RatingIn, ReviewIn, StatusIn
from .actions import Outcome, TicketActions
from .deps import Ticket
from .lifecycle import AskSupervisor, ChangeStatus, CustomerMessage, Rate, Reopen, StaffMessage

router = APIRouter(prefix="/v1/tickets/{tid}", tags=["ticket lifecycle"])
ILLEGAL = {"description": "Not allowed in the ticket's status (names it and what is allowed)"}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {},
    403: {},
    404: {"description": "No such ticket, or not yours"},
    409: ILLEGAL,
}


def get_actions(request: Request) -> TicketActions:
    actions: TicketActions = request.app.state.actions
    return actions


Actions = Annotated[TicketActions, Depends(get_actions)]


def _result(outcome: Outcome, message_id: str | None = None) -> ActionResult:
    return ActionResult(
        tid=outcome.tid,
        status=outcome.status,
        version=outcome.version,
        events=[e.event_type for e in outcome.events],
        message_id=message_id,
    )


def _customer_only(ticket: Ticket, what: str) -> None:
    if ticket.staff is not None:
        raise Problem(403, "Forbidden", f"only the customer may {what}, with the ticket's token")


@router.post("/messages", status_code=status.HTTP_201_CREATED, responses={**ERRORS, 422: {}})
async def add_message(
    body: MessageIn, ticket: Ticket, actions: Actions, request: Request
) -> ActionResult:
    """A customer message (with the ticket's token) or a staff reply (staff key): `public`,
    or an `internal` note the customer never sees."""
    message_id = f"msg-{uuid.uuid4()}"
    limits = request.app.state.intake.settings
    if len(body.body) > limits.max_body_chars:
        raise Problem(413, "Body too long", f"body exceeds {limits.max_body_chars} characters")
    try:
        files = [
            att.check(a.filename, a.content_base64, limits.max_attachment_bytes)
            for a in body.attachments
        ]
    except att.AttachmentRefused as exc:
        raise Problem(422, "Attachment refused", str(exc)) from None
    if ticket.staff is None:
        if body.visibility == "internal":
            raise Problem(403, "Forbidden", "internal notes are for staff")
        command: CustomerMessage | StaffMessage = CustomerMessage(
            author_email=ticket.requester_email,
            body=body.body,
            via=ticket.channel,
            message_id=message_id,
            attachments=tuple(f.as_ref() for f in files),
        )
    else:
        if files:
            raise Problem(422, "Attachment refused", "staff replies carry no attachments yet")
        command = StaffMessage(
            staff_id=ticket.staff.name,
            body=body.body,
            visibility=body.visibility,
            message_id=message_id,
        )

    async def keep_files(conn: object) -> None:
        await projection.store_attachments(conn, files)

    outcome = await actions.perform(ticket.tid, command, also_write=keep_files)
    return _result(outcome, message_id)


@router.post("/status", responses=ERRORS)
async def change_status(body: StatusIn, ticket: Ticket, actions: Actions) -> ActionResult:
    """Staff move the ticket: waiting_on_customer, on_hold, open, resolved, or closed (with a
    close_reason). Resolving or closing destroys stored credentials."""
    if ticket.staff is None:
        raise Problem(403, "Forbidden", "status changes need a staff key")
    if body.close_reason is not None and body.status != "closed":
        raise Problem(422, "Invalid field", "close_reason goes only with status closed")
    command = ChangeStatus(
        to=body.status, by=ticket.actor, reason=body.reason, close_reason=body.close_reason
    )
    return _result(await actions.perform(ticket.tid, command))


@router.post("/reopen", responses=ERRORS)
async def reopen(ticket: Ticket, actions: Actions) -> ActionResult:
    """Re-open a resolved or closed ticket (its customer, or staff)."""
    return _result(await actions.perform(ticket.tid, Reopen(by=ticket.actor)))


@router.post("/rating", responses=ERRORS)
async def rate(body: RatingIn, ticket: Ticket, actions: Actions) -> ActionResult:
    """After resolution the customer rates the service, 1 to 5, with a comment (once)."""
    _customer_only(ticket, "rate the service")
    return _result(await actions.perform(ticket.tid, Rate(body.rating, body.comment)))


@router.post("/supervisor-review", responses=ERRORS)
async def supervisor_review(body: ReviewIn, ticket: Ticket, actions: Actions) -> ActionResult:
    """After resolution the customer may ask for a supervisor's review."""
    _customer_only(ticket, "ask for a supervisor's review")
    return _result(await actions.perform(ticket.tid, AskSupervisor(body.reason)))
