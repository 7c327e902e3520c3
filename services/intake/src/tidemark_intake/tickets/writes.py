"""The one write path of a ticket, whatever brought the change: an HTTP submission, a
lifecycle action (HTTP), or an e-mail (SMTP or HTTP). All of it runs in a unit of work.

A new ticket: its TID from the sequence, its access token (salt + derived token, stored
only as a hash), its first event appended as the stream's version 1, its read-model row
and attachments. An existing ticket: its read-model row locked (writers to one ticket
queue there instead of colliding), its stream folded, and the events appended after the
version that fold found, so a writer that skipped the lock is still caught by the
store's version check (a ConcurrencyConflict: the retry policy runs the whole again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.events.intake import TicketSubmitted
from tidekit.literals import one_of
from tidekit.messaging.uow import UnitOfWork
from tidekit.sla.names import LEVELS, SEVERITIES, Level, Severity
from tidemark_intake.settings import IntakeSettings

from . import attachments as att
from . import lifecycle, projection, tokens
from .lifecycle import TicketState


@dataclass(frozen=True)
class Loaded:
    """A ticket as a writer needs it: its folded state and the read-model facts it uses."""

    state: TicketState
    level: Level | None
    severity: Severity | None
    requester_email: str
    license_key: str | None


@dataclass(frozen=True)
class NewTid:
    tid: str
    salt: str
    access_token: str


def over_limit(
    settings: IntakeSettings, subject_chars: int, body_chars: int
) -> Literal["subject", "body"] | None:
    """Which text of a new ticket or message is longer than intake keeps, if any."""
    if subject_chars > settings.max_subject_chars:
        return "subject"
    if body_chars > settings.max_body_chars:
        return "body"
    return None


async def load(uow: UnitOfWork, tid: str) -> Loaded | None:
    """Lock the ticket's row and fold its stream; None when there is no such ticket."""
    row = await uow.conn.fetchrow(
        """SELECT level, severity, requester_email, license_key FROM tickets
           WHERE tid = $1 FOR UPDATE""",
        tid,
    )
    if row is None:
        return None
    state = TicketState(tid=tid, status="new", version=0)
    for stored in await uow.store.read_stream(uow.conn, tid):
        state = lifecycle.evolve(state, stored.envelope.decode(registry))
    level, severity = one_of(LEVELS, row["level"]), one_of(SEVERITIES, row["severity"])
    return Loaded(state, level, severity, row["requester_email"], row["license_key"])


async def new_tid(uow: UnitOfWork, settings: IntakeSettings) -> NewTid:
    tid = f"TID-{await uow.conn.fetchval('SELECT nextval($1)', 'tid_seq')}"
    salt = tokens.new_salt()
    token = tokens.derive_token(settings.token_secret.get_secret_value(), tid, salt)
    return NewTid(tid, salt, token)


async def open_ticket(
    uow: UnitOfWork,
    new: NewTid,
    submitted: TicketSubmitted,
    files: Sequence[att.CheckedAttachment],
) -> None:
    uow.append(new.tid, 0, [submitted])
    await projection.store_attachments(uow.conn, files)
    await projection.insert_ticket(
        uow.conn, submitted, new.salt, tokens.token_hash(new.access_token)
    )


async def change(
    uow: UnitOfWork,
    state: TicketState,
    events: Sequence[DomainEvent],
    files: Sequence[att.CheckedAttachment] = (),
) -> TicketState:
    """Append `events` after the version `state` was folded to, project them; the new state."""
    uow.append(state.tid, state.version, events)
    await projection.store_attachments(uow.conn, files)
    for event in events:
        await projection.apply_own(uow.conn, event)
        state = lifecycle.evolve(state, event)
    return state
