"""Escalation handlers: load the ticket's state, decide, and in one transaction append the
events (with their outbox rows) and save the state row the queues are read from."""

from __future__ import annotations

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Cause
from tidekit.events.vocabulary import Level
from tidekit.runtime import ServiceRuntime
from tidekit.sla import Policy
from tidekit.store.eventstore import ConcurrencyConflict

from .board.changes import record_decided
from .deadlines import DEADLINE_EVENTS, Due, next_due
from .domain import Context, StaffEscalation, TicketState, handle
from .ordering import serve_rank, tid_key
from .rules import Rules, RulesError
from .settings import EscalationSettings

STAFF_RETRIES = 5


class EscalationService:
    def __init__(
        self, runtime: ServiceRuntime, settings: EscalationSettings, rules: Rules, policy: Policy
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.store = runtime.store
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

    def context(self) -> Context:
        return Context(self.rules, self.tier2, self.may_go_to_development, self.runtime.clock.now())

    # --- consumed events -----------------------------------------------------------------
    async def on_event(self, event: DomainEvent, cause: Cause, conn: asyncpg.Connection) -> None:
        tid: str = getattr(event, "tid")  # noqa: B009 - every consumed event is a ticket's
        if isinstance(event, DEADLINE_EVENTS):
            await self._learn_deadline(conn, tid, event)
            return
        state = await load_state(conn, tid)
        new_state, decided = handle(state, event, self.context())
        await self._commit(conn, state, new_state, decided, cause)

    async def _learn_deadline(self, conn: asyncpg.Connection, tid: str, event: DomainEvent) -> None:
        row = await conn.fetchrow(
            "SELECT obligation_id, deadline FROM ticket_deadlines WHERE tid = $1 FOR UPDATE", tid
        )
        current = Due(row["obligation_id"], row["deadline"]) if row else None
        due = next_due(current, event)
        if due == current:
            return
        await conn.execute(
            "UPDATE queue_entries SET deadline = $2 WHERE tid = $1",
            tid,
            None if due is None else due.deadline,
        )
        if due is None:
            await conn.execute("DELETE FROM ticket_deadlines WHERE tid = $1", tid)
        else:
            await conn.execute(
                """INSERT INTO ticket_deadlines (tid, obligation_id, deadline) VALUES ($1, $2, $3)
                   ON CONFLICT (tid) DO UPDATE SET obligation_id = EXCLUDED.obligation_id,
                       deadline = EXCLUDED.deadline""",
                tid,
                due.obligation_id,
                due.deadline,
            )

    # --- staff ---------------------------------------------------------------------------
    async def escalate(self, command: StaffEscalation) -> list[DomainEvent]:
        """Carry out a staff escalation (raises domain.Refused); retried on a concurrent write."""
        pool = self.runtime.require_pool()
        for attempt in range(STAFF_RETRIES):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    state = await load_state(conn, command.tid)
                    new_state, decided = handle(state, command, self.context())
                    await self._commit(conn, state, new_state, decided, None)
                self.runtime.wake_relay()
                return decided
            except ConcurrencyConflict:
                if attempt == STAFF_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # --- persistence ---------------------------------------------------------------------
    async def _commit(
        self,
        conn: asyncpg.Connection,
        old: TicketState,
        new: TicketState,
        decided: list[DomainEvent],
        cause: Cause | None,
    ) -> None:
        if decided:
            version = await self.store.stream_version(conn, new.tid)
            await self.store.append(
                conn,
                new.tid,
                version,
                decided,
                caused_by=cause,
                occurred_at=self.runtime.clock.now(),
            )
            await record_decided(conn, decided, self.runtime.clock.now())  # the board's feed
        if new != old and new.queue is not None:
            await save_state(conn, new)


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
