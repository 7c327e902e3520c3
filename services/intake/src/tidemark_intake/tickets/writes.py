"""The one write path of a ticket, whatever brought the change: an HTTP submission, a
lifecycle action (HTTP), or an e-mail (SMTP or HTTP). All of it runs in a unit of work.

A new ticket: its TID from the replica's block of the sequence, its access token (salt +
derived token, stored only as a hash), its first event appended as the stream's version
1, its read-model row and attachments, the last three staged on the unit of work and
written by its flush in one statement. An existing ticket: its read-model row locked
(writers to one ticket queue there instead of colliding), its stream folded, and the
events appended after the version that fold found, so a writer that skipped the lock is
still caught by the store's version check (a ConcurrencyConflict: the retry policy runs
the whole again).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg

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

TID_BLOCK = 32  # TIDs a replica takes from the sequence at a time


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


class TidBlocks:
    """TIDs from the sequence, a block at a time: one round trip per TID_BLOCK new tickets
    instead of one per ticket. A replica that stops leaves the rest of its block unused
    (gaps, as a rolled-back nextval leaves), and two replicas hand out interleaved
    numbers: a TID is unique, not a count nor an order (docs/intake.md)."""

    def __init__(self, block: int = TID_BLOCK) -> None:
        self._block = block
        self._free: deque[int] = deque()

    async def take(self, conn: asyncpg.Connection) -> str:
        if not self._free:
            numbers = await conn.fetch(
                "SELECT nextval('tid_seq') FROM generate_series(1, $1)", self._block
            )
            self._free.extend(n for (n,) in numbers)
        return f"TID-{self._free.popleft()}"


async def new_tid(uow: UnitOfWork, tids: TidBlocks, settings: IntakeSettings) -> NewTid:
    tid = await tids.take(uow.conn)
    salt = tokens.new_salt()
    token = tokens.derive_token(settings.token_secret.get_secret_value(), tid, salt)
    return NewTid(tid, salt, token)


def open_ticket(
    uow: UnitOfWork,
    new: NewTid,
    submitted: TicketSubmitted,
    files: Sequence[att.CheckedAttachment],
) -> None:
    """The new ticket's first event, read-model row and attachments, all written with the
    unit of work's flush, in its one statement."""
    uow.append(new.tid, 0, [submitted])
    _stage_attachments(uow, files)
    uow.stage(projection.ticket_row(submitted, new.salt, tokens.token_hash(new.access_token)))


async def change(
    uow: UnitOfWork,
    state: TicketState,
    events: Sequence[DomainEvent],
    files: Sequence[att.CheckedAttachment] = (),
) -> TicketState:
    """Append `events` after the version `state` was folded to, project them; the new state."""
    uow.append(state.tid, state.version, events)
    _stage_attachments(uow, files)
    for event in events:
        await projection.apply_own(uow.conn, event)
        state = lifecycle.evolve(state, event)
    return state


def _stage_attachments(uow: UnitOfWork, files: Sequence[att.CheckedAttachment]) -> None:
    rows = projection.attachment_rows(files)
    if rows is not None:
        uow.stage(rows)
