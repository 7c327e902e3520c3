"""Escalation handlers: lock and load the ticket's state row, decide (pure), save the row
the queues are read from and record the events, all in the unit of work. The row lock
orders writers to a ticket, so the events are recorded (`uow.record`), not appended
behind a version read a moment before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.vocabulary import Level
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidekit.sla import Policy

from .board import projection as board_projection
from .board.changes import record_decided
from .deadlines import DEADLINE_EVENTS, Due, next_due
from .domain import Context, StaffEscalation, TicketState, handle
from .ordering import serve_rank, tid_key
from .rules import Rules, RulesError
from .settings import EscalationSettings

TICKET_LOCK = "escalation:"  # lock_ticket's key: this and the TID, hashed (hashtext)

# Told of each consumed event before escalation acts on it, in the same transaction.
Reporter = Callable[[DomainEvent, asyncpg.Connection], Awaitable[None]]


async def _no_report(event: DomainEvent, conn: asyncpg.Connection) -> None:
    return None


class EscalationService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        settings: EscalationSettings,
        rules: Rules,
        policy: Policy,
        report: Reporter = _no_report,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.report = report  # folds sla.* events into the attainment report's rows
        self.rules = rules
        if rules.tier2_calendar not in policy.calendars:
            raise RulesError(
                f"tier2_calendar: {rules.tier2_calendar!r} is not a calendar of the SLA policy "
                f"(it has {sorted(policy.calendars)})"
            )
        self.tier2 = policy.calendars[rules.tier2_calendar]
        self.may_go_to_development: dict[Level, bool] = {
            level: spec.may_go_to_development for level, spec in policy.model.levels.items()
        }

    def register(self, consumed: Iterable[str]) -> None:
        self.runtime.handlers.register_events(consumed, self.on_event)
        self.runtime.handlers.register(StaffEscalation, self.escalate)

    def context(self, uow: UnitOfWork) -> Context:
        return Context(self.rules, self.tier2, self.may_go_to_development, uow.now())

    # --- consumed events -----------------------------------------------------------------
    async def on_event(self, event: DomainEvent, uow: UnitOfWork) -> None:
        if ticket_lock_key(event) not in uow.held_locks:  # a consumer batch took it already
            await lock_ticket(uow.conn, event.stream_id())
        await self.report(event, uow.conn)  # first: the queue before the event
        await self._route(event, uow)
        # The board's rows and change feed, in the same transaction as the queues.
        await board_projection.on_event(uow.conn, event, uow.now())

    async def _route(self, event: DomainEvent, uow: UnitOfWork) -> None:
        if event.event_type in board_projection.BOARD_ONLY_EVENTS:
            return  # consumed for the board alone
        tid: str = getattr(event, "tid")  # noqa: B009 - every consumed event is a ticket's
        if isinstance(event, DEADLINE_EVENTS):
            await self._learn_deadline(uow.conn, tid, event)
            return
        await self._decide(uow, tid, event)

    async def _learn_deadline(self, conn: asyncpg.Connection, tid: str, event: DomainEvent) -> None:
        row = await conn.fetchrow(
            "SELECT obligation_id, deadline FROM ticket_deadlines WHERE tid = $1 FOR UPDATE", tid
        )
        current = Due(row["obligation_id"], row["deadline"]) if row else None
        due = next_due(current, event)
        if due == current:
            return
        # The queue row (if the ticket is queued yet) and the ticket's own deadline row, in
        # one statement.
        queue_row = "queue AS (UPDATE queue_entries SET deadline = $2 WHERE tid = $1)"
        if due is None:
            await conn.execute(
                f"WITH {queue_row} DELETE FROM ticket_deadlines WHERE tid = $1", tid, None
            )
        else:
            await conn.execute(
                f"""WITH {queue_row}
                    INSERT INTO ticket_deadlines (tid, obligation_id, deadline) VALUES ($1, $3, $2)
                    ON CONFLICT (tid) DO UPDATE SET obligation_id = EXCLUDED.obligation_id,
                        deadline = EXCLUDED.deadline""",
                tid,
                due.deadline,
                due.obligation_id,
            )

    # --- staff ---------------------------------------------------------------------------
    async def escalate(self, command: StaffEscalation, uow: UnitOfWork) -> list[DomainEvent]:
        """Carry out a staff escalation (raises domain.Refused)."""
        await lock_ticket(uow.conn, command.tid)
        return await self._decide(uow, command.tid, command)

    async def _decide(
        self, uow: UnitOfWork, tid: str, message: DomainEvent | StaffEscalation
    ) -> list[DomainEvent]:
        state = await load_state(uow.conn, tid)
        new_state, decided = handle(state, message, self.context(uow))
        uow.record(decided)
        await record_decided(uow.conn, decided, uow.now())  # the board's change feed
        if new_state != state and new_state.queue is not None:
            await save_state(uow.conn, new_state)
        return decided


def ticket_lock_key(event: DomainEvent) -> str:
    """The key of `lock_ticket`'s lock for an event's ticket; a consumer batch takes these
    for all its records at once (tidekit.kafka.batch)."""
    return TICKET_LOCK + event.stream_id()


async def lock_ticket(conn: asyncpg.Connection, tid: str) -> None:
    """One writer per ticket at a time, until its transaction ends. The queue row's lock
    is not enough: before a ticket is queued there is no row to lock, and events of one
    ticket arrive on several topics, handled side by side. Without it, a deadline learnt
    while the ticket is being queued was lost to the queue row (the chaos run found a
    queue_entries row without the deadline its ticket_deadlines row had)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1 || $2))", TICKET_LOCK, tid)


async def load_state(conn: asyncpg.Connection, tid: str) -> TicketState:
    row = await conn.fetchrow("SELECT * FROM queue_entries WHERE tid = $1 FOR UPDATE", tid)
    if row is None:
        return TicketState(tid=tid)
    return TicketState(
        tid=tid,
        queue=row["queue"],
        waiting=row["waiting"],
        urgent=row["urgent"],
        submitted_at=row["submitted_at"],
        level=row["level"],
        severity=row["severity"],
        queued_at=row["queued_at"],
        rule=row["rule"],
        reason=row["reason"],
        note=row["note"],
        acted_on=frozenset(row["acted_on"]),
    )


async def save_state(conn: asyncpg.Connection, s: TicketState) -> None:
    await conn.execute(
        """INSERT INTO queue_entries (tid, queue, urgent, submitted_at, level, severity,
               queued_at, serve_rank, tid_key, waiting, rule, reason, note, acted_on, deadline)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                   (SELECT deadline FROM ticket_deadlines WHERE tid = $1))
           ON CONFLICT (tid) DO UPDATE SET queue = EXCLUDED.queue, urgent = EXCLUDED.urgent,
               submitted_at = EXCLUDED.submitted_at, level = EXCLUDED.level,
               severity = EXCLUDED.severity, queued_at = EXCLUDED.queued_at,
               serve_rank = EXCLUDED.serve_rank, waiting = EXCLUDED.waiting,
               rule = EXCLUDED.rule, reason = EXCLUDED.reason, note = EXCLUDED.note,
               acted_on = EXCLUDED.acted_on""",
        s.tid,
        s.queue,
        s.urgent,
        s.submitted_at,
        s.level,
        s.severity,
        s.queued_at,
        serve_rank(s.urgent),
        tid_key(s.tid),
        s.waiting,
        s.rule,
        s.reason,
        s.note,
        sorted(s.acted_on),
    )
