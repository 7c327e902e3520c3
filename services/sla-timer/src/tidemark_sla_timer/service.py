"""SLA timer handlers: lock the ticket, replay its clocks, emit what is owed, keep timers.

Every handler runs in the consumer's unit of work (inbox row included): the ticket's new
fact, the sla.* events (event store + outbox), their emitted-once keys and the ticket's
timer rows commit together or not at all. The ticket's row lock orders its writers, and
the state lives in tables (facts, inputs, emitted keys), so the events are recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified, TicketReclassified
from tidekit.events.escalation import TicketEscalated
from tidekit.events.intake import (
    MessageAdded,
    StaffReplied,
    StatusChanged,
    TicketClosed,
    TicketReopened,
    TicketResolved,
)
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime

from . import repo
from .domain import ClockInput, TicketFacts, pending_events, replay, target_changes, timers_for


def input_for(event: DomainEvent) -> ClockInput | None:
    """The clock input an upstream event gives (None: it does not move clocks)."""
    match event:
        case MessageAdded():
            return ClockInput(event.added_at, "customer_message")
        case StaffReplied(visibility="public"):
            return ClockInput(event.replied_at, "staff_replied")
        case StatusChanged():
            return ClockInput(event.changed_at, "status", status=event.to_status)
        case TicketResolved():
            return ClockInput(event.resolved_at, "resolved")
        case TicketClosed():
            return ClockInput(event.closed_at, "resolved")
        case TicketReopened():
            return ClockInput(event.reopened_at, "reopened")
        case TicketReclassified():
            return ClockInput(
                event.reclassified_at, "reclassified", level=event.level, severity=event.severity
            )
        case TicketEscalated(to_queue="development"):
            return ClockInput(event.escalated_at, "escalated", level="development")
    return None


class SlaTimerService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        policy: sla.Policy,
        on_timer: Callable[[datetime], None] = lambda due: None,
    ) -> None:
        self.runtime = runtime
        self.policy = policy
        self.on_timer = on_timer  # told each timer written (wakes the scheduler if sooner)

    async def tickets_of(
        self, conn: asyncpg.Connection, events: Sequence[DomainEvent]
    ) -> dict[str, Any]:
        """A consumer batch's tickets whose clocks its events move, read and locked in one
        statement (BatchHandler.prefetch) instead of one per event."""
        moving = [e for e in events if isinstance(e, TicketClassified) or input_for(e) is not None]
        return dict(await repo.lock_tickets(conn, [e.stream_id() for e in moving]))

    async def on_event(self, event: DomainEvent, uow: UnitOfWork) -> None:
        tid: str = getattr(event, "tid")  # noqa: B009 - every consumed event is a ticket's
        if isinstance(event, TicketClassified):
            facts = TicketFacts(event.level, event.severity, event.entitlement, event.submitted_at)
            await self._apply(uow, tid, facts=facts, classified_at=event.classified_at)
            return
        item = input_for(event)
        if item is not None:
            await self._apply(uow, tid, item=item)

    async def _apply(
        self,
        uow: UnitOfWork,
        tid: str,
        *,
        item: ClockInput | None = None,
        facts: TicketFacts | None = None,
        classified_at: datetime | None = None,
    ) -> None:
        conn = uow.conn
        batch = uow.prefetched  # the consumer batch's tickets, read and locked (tickets_of)
        if batch is not None and tid in batch:
            stored: TicketFacts | None = batch[tid]
        else:
            stored = await repo.lock_ticket(conn, tid)
        if facts is not None:
            if stored is not None:
                return  # classified before: later changes come as ticket.reclassified
            uow.stage(repo.facts_saved(tid, facts, classified_at or facts.submitted_at))
            if batch is not None:
                batch[tid] = facts  # as the row holds it once this unit of work is flushed
        current = stored or facts
        if item is None:
            inputs = await repo.inputs(conn, tid)
        else:  # the ticket's inputs read, and the new one added, in one statement
            inputs, seq = await repo.inputs_adding(conn, tid, item)
        before = replay(self.policy, stored, inputs)
        if item is not None:
            item = replace(item, seq=seq)
            inputs.append(item)
        after = replay(self.policy, current, inputs)
        if after is None:
            return  # not classified yet: the fact waits in clock_inputs
        # First, as it waits for a scheduler claim in flight on them: `emitted` sees it.
        await repo.drop_timers(conn, tid)
        emitted = await repo.emitted(conn, tid)
        pending = pending_events(tid, after, emitted)
        if item is not None and item.kind == "reclassified":
            pending += target_changes(tid, before, after, item.at, item.seq)
        fresh = await repo.mark_emitted(conn, tid, [p.key for p in pending], uow.now())
        uow.record([p.event for p in pending if p.key in fresh])
        timers = timers_for(tid, after, emitted | fresh)
        if timers:  # written with the events this handler decided, in one statement
            uow.stage(repo.timers_written(timers))
        for t in timers:
            self.on_timer(t.due_at)
