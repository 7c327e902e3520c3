"""The board's projection of consumed events, written in the consumer handler's
transaction (the same one as escalation's own), with a change row for what the page shows.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.intake import TicketSubmitted
from tidekit.events.sla import ClockMet

from .changes import record_change_in_current_queue
from .clock_state import CLOCK_EVENTS, BoardClock, next_clock

# Every event the board projects changes what an open board shows: issue 20 names
# ticket.queued (recorded by the service), sla.warning, sla.breached and sla.clock_met;
# the other clock events bring or move a countdown, ticket.submitted the subject.
BOARD_ONLY_EVENTS = ("ticket.submitted",)  # consumed for the board alone (the subject)


async def on_event(conn: asyncpg.Connection, event: DomainEvent, now: datetime) -> None:
    """`now`: the runtime clock's reading, for the change row."""
    tid: str = getattr(event, "tid")  # noqa: B009 - every consumed event is a ticket's
    if isinstance(event, TicketSubmitted):
        await conn.execute(
            """INSERT INTO board_tickets (tid, subject) VALUES ($1, $2)
               ON CONFLICT (tid) DO UPDATE SET subject = EXCLUDED.subject""",
            tid,
            event.subject,
        )
        await _announce(conn, event.event_type, tid, now)
        return
    if not isinstance(event, CLOCK_EVENTS):
        return
    row = await conn.fetchrow("SELECT * FROM board_tickets WHERE tid = $1 FOR UPDATE", tid)
    current = None
    if row is not None and row["obligation_id"] is not None:
        current = BoardClock(
            row["obligation_id"], row["kind"], row["deadline"], row["warning_at"],
            row["paused"], row["warned"], row["breached"],
        )  # fmt: skip
    new = next_clock(current, event)
    if new is not None and new != current:
        await _save(conn, tid, new)
    if isinstance(event, ClockMet) and new is not None and new.kind == "first_response":
        await conn.execute(
            """INSERT INTO board_first_replies (tid, queue, queued_at, replied_at)
               SELECT $1, q.queue, q.queued_at, $2 FROM queue_entries q WHERE q.tid = $1
               ON CONFLICT (tid) DO NOTHING""",
            tid,
            event.met_at,
        )
    await _announce(conn, event.event_type, tid, now)


async def _announce(conn: asyncpg.Connection, kind: str, tid: str, now: datetime) -> None:
    await record_change_in_current_queue(conn, kind, tid, now)  # one statement, not two


async def _save(conn: asyncpg.Connection, tid: str, c: BoardClock) -> None:
    # A met obligation has no countdown: its deadline is cleared.
    deadline = None if c.met else c.deadline
    await conn.execute(
        """INSERT INTO board_tickets (tid, obligation_id, kind, deadline, warning_at, paused,
                                      warned, breached)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tid) DO UPDATE SET obligation_id = EXCLUDED.obligation_id,
               kind = EXCLUDED.kind, deadline = EXCLUDED.deadline,
               warning_at = EXCLUDED.warning_at, paused = EXCLUDED.paused,
               warned = EXCLUDED.warned, breached = EXCLUDED.breached""",
        tid, c.obligation_id, c.kind, deadline, c.warning_at, c.paused, c.warned, c.breached,
    )  # fmt: skip
