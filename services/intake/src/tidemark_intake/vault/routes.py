"""The credentials vault over HTTP: the customer hands over server access, staff read it."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status

from tidekit.events.intake import CredentialsStored
from tidekit.web.problems import Problem
from tidemark_intake.deps import TICKET_ERRORS, Actions, TicketCaller

from .models import CredentialsIn, CredentialsStoredOut, StoredCredentials

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/tickets/{tid}", tags=["credentials vault"])


@router.post(
    "/credentials",
    status_code=status.HTTP_201_CREATED,
    response_model=CredentialsStoredOut,
    responses={**TICKET_ERRORS, 422: {}},
)
async def store_credentials(
    body: CredentialsIn, ticket: TicketCaller, actions: Actions
) -> CredentialsStoredOut:
    """Store FTP/SSH/control-panel access, encrypted (AES-GCM). Events carry only the
    reference; the secret is destroyed when the ticket is resolved or closed."""
    entries = [
        {
            "kind": e.kind,
            "host": e.host,
            "username": e.username,
            "password": e.password.get_secret_value(),
            "notes": e.notes,
        }
        for e in body.entries
    ]
    outcome = await actions.store_credentials(ticket.tid, entries)
    stored = outcome.events[0]
    assert isinstance(stored, CredentialsStored)  # the one event store_credentials decides
    return CredentialsStoredOut(
        tid=ticket.tid,
        credentials_ref=stored.credentials_ref,
        kinds=list(stored.kinds),
    )


@router.get("/credentials", response_model=list[StoredCredentials], responses=TICKET_ERRORS)
async def read_credentials(
    ticket: TicketCaller, actions: Actions, request: Request
) -> list[StoredCredentials]:
    """Staff read the ticket's stored credentials (role from settings, agent by default)."""
    least = request.app.state.intake.settings.credentials_min_role
    if ticket.staff is None or not ticket.staff.is_staff(least):
        raise Problem(403, "Forbidden", f"stored credentials are shown to staff ({least} or above)")
    log.info("credentials read", extra={"tid": ticket.tid, "key_id": ticket.staff.key_id})
    return [StoredCredentials(**c) for c in await actions.read_credentials(ticket.tid)]
