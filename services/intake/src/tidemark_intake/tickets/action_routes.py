"""Commands on an existing ticket (SPEC 2, 3.1): messages, status, reopen, rating, review."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from tidekit.web.problems import Problem
from tidemark_intake.deps import TICKET_ERRORS, Actions, TicketCaller

from . import attachments as att
from .action_models import ActionResult, MessageIn, RatingIn, ReviewIn, StatusIn
from .actions import ActionOutcome
from .lifecycle import AskSupervisor, ChangeStatus, CustomerMessage, Rate, Reopen, StaffMessage

router = APIRouter(prefix="/v1/tickets/{tid}", tags=["ticket lifecycle"])


def _result(outcome: ActionOutcome, message_id: str | None = None) -> ActionResult:
    return ActionResult(
        tid=outcome.tid,
        status=outcome.status,
        version=outcome.version,
        events=[e.event_type for e in outcome.events],
        message_id=message_id,
    )


def _customer_only(ticket: TicketCaller, what: str) -> None:
    if ticket.staff is not None:
        raise Problem(403, "Forbidden", f"only the customer may {what}, with the ticket's token")


@router.post("/messages", status_code=status.HTTP_201_CREATED, responses={**TICKET_ERRORS, 422: {}})
async def add_message(
    body: MessageIn, ticket: TicketCaller, actions: Actions, request: Request
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

    outcome = await actions.perform(ticket.tid, command, files)
    return _result(outcome, message_id)


@router.post("/status", responses=TICKET_ERRORS)
async def change_status(body: StatusIn, ticket: TicketCaller, actions: Actions) -> ActionResult:
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


@router.post("/reopen", responses=TICKET_ERRORS)
async def reopen(ticket: TicketCaller, actions: Actions) -> ActionResult:
    """Re-open a resolved or closed ticket (its customer, or staff)."""
    return _result(await actions.perform(ticket.tid, Reopen(by=ticket.actor)))


@router.post("/rating", responses=TICKET_ERRORS)
async def rate(body: RatingIn, ticket: TicketCaller, actions: Actions) -> ActionResult:
    """After resolution the customer rates the service, 1 to 5, with a comment (once)."""
    _customer_only(ticket, "rate the service")
    return _result(await actions.perform(ticket.tid, Rate(body.rating, body.comment)))


@router.post("/supervisor-review", responses=TICKET_ERRORS)
async def supervisor_review(body: ReviewIn, ticket: TicketCaller, actions: Actions) -> ActionResult:
    """After resolution the customer may ask for a supervisor's review."""
    _customer_only(ticket, "ask for a supervisor's review")
    return _result(await actions.perform(ticket.tid, AskSupervisor(body.reason)))
