"""`tidemark-ops rebuild escalation`: `queue_entries`, `ticket_deadlines` and the reports'
`report_obligations` from the events
escalation consumed (recorded in consumed_events) and its own ticket.queued /
ticket.escalated, folded in the order they were recorded with the service's own `evolve`
and `next_due` (the handlers' pure halves; no rule is decided again).

Every column is carried by an event: the routing state by ticket.classified /
ticket.reclassified (level, severity, urgent, submitted_at), ticket.queued (queue, rule,
reason, note, queued_at), sla.warning / sla.breached (acted_on) and the intake's
resolutions (waiting); the deadline by the sla.clock_* events; a report row by the sla.*
events of its obligation and the queue the ticket was in before each (as
reports.store.record_obligation reads it). Nothing is copied from the live rows. Keep
`QueueFold` in step with service.on_event and _commit.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.store.consumed import missing_history, source_sql
from tidekit.store.rebuild import Batch, ReadModel, replace_rows, stored_event

from .board.projection import BOARD_ONLY_EVENTS
from .deadlines import DEADLINE_EVENTS, Due, next_due
from .domain import TicketState, evolve
from .ordering import serve_rank, tid_key
from .reports.domain.obligations import REPORTED_EVENTS, ObligationRecord
from .reports.domain.obligations import evolve as evolve_obligation
from .reports.store import COLUMNS as REPORT_COLUMNS

OWN = ("ticket.queued", "ticket.escalated")
QUEUE_COLUMNS = (
    "tid", "queue", "urgent", "submitted_at", "level", "severity", "queued_at", "serve_rank",
    "tid_key", "waiting", "rule", "reason", "note", "acted_on", "deadline",
)  # fmt: skip
DEADLINE_COLUMNS = ("tid", "obligation_id", "deadline")


@dataclass
class QueueFold:
    """The handlers' effect, in memory. A handler saves its ticket's state only once it is
    queued (service._commit): a state folded from a foreign event that leaves the ticket
    unqueued lasts only until the next foreign event, which starts from the saved one."""

    saved: dict[str, TicketState] = field(default_factory=dict)
    open: dict[str, TicketState] = field(default_factory=dict)
    dues: dict[str, Due] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    reports: dict[str, ObligationRecord] = field(default_factory=dict)
    dirty_reports: set[str] = field(default_factory=set)

    def apply(self, event: DomainEvent, foreign: bool) -> None:
        tid = event.stream_id()
        self.dirty.add(tid)
        if isinstance(event, REPORTED_EVENTS):
            self._report(event, tid)
        if event.event_type in BOARD_ONLY_EVENTS:
            return  # the handler leaves the queue state alone (service._route)
        if isinstance(event, DEADLINE_EVENTS):
            due = next_due(self.dues.get(tid), event)
            if due is None:
                self.dues.pop(tid, None)
            else:
                self.dues[tid] = due
            return
        if foreign:
            self._settle(tid)
        state = self.open.get(tid) or self.saved.get(tid) or TicketState(tid=tid)
        self.open[tid] = evolve(state, event)

    def _report(self, event: DomainEvent, tid: str) -> None:
        """As record_obligation: before the event is acted on, with the queue the ticket's
        row holds (the latest state that had a queue)."""
        oid: str = getattr(event, "obligation_id")  # noqa: B009 - every REPORTED_EVENT has one
        state = self.open.get(tid)
        if state is None or state.queue is None:
            state = self.saved.get(tid)
        current = self.reports.get(oid)
        updated = evolve_obligation(current, event, state.queue if state else None)
        if updated is not None and updated != current:
            self.reports[oid] = updated
            self.dirty_reports.add(oid)

    def take_reports(self) -> tuple[list[str], list[tuple[object, ...]]]:
        """(obligations changed, their report_obligations rows)."""
        oids, self.dirty_reports = sorted(self.dirty_reports), set()
        return oids, [astuple(self.reports[o]) for o in oids]

    def _settle(self, tid: str) -> None:
        state = self.open.pop(tid, None)
        if state is not None and state.queue is not None:
            self.saved[tid] = state

    def take_dirty(self) -> tuple[list[str], list[tuple[object, ...]], list[tuple[object, ...]]]:
        """(tids changed, their queue_entries rows, their ticket_deadlines rows)."""
        for tid in list(self.open):
            self._settle(tid)
        tids, self.dirty = sorted(self.dirty), set()
        queue_rows = [self._queue_row(self.saved[t]) for t in tids if t in self.saved]
        due_rows: list[tuple[object, ...]] = [
            (t, self.dues[t].obligation_id, self.dues[t].deadline) for t in tids if t in self.dues
        ]
        return tids, queue_rows, due_rows

    def _queue_row(self, s: TicketState) -> tuple[object, ...]:
        due = self.dues.get(s.tid)
        return (
            s.tid, s.queue, s.urgent, s.submitted_at, s.level, s.severity, s.queued_at,
            serve_rank(s.urgent), tid_key(s.tid), s.waiting, s.rule, s.reason, s.note,
            sorted(s.acted_on), due.deadline if due else None,
        )  # fmt: skip


def read_model() -> ReadModel:
    """Escalation's read model for tidekit.store.rebuild (entry point `tidemark.rebuild`)."""
    fold = QueueFold()

    async def apply(conn: asyncpg.Connection, rows: Batch) -> None:
        for row in rows:
            fold.apply(stored_event(row), row["origin"] == "foreign")

    async def flush(conn: asyncpg.Connection) -> None:
        tids, queue_rows, due_rows = fold.take_dirty()
        await replace_rows(conn, "queue_entries", "tid", tids, QUEUE_COLUMNS, queue_rows)
        await replace_rows(conn, "ticket_deadlines", "tid", tids, DEADLINE_COLUMNS, due_rows)
        oids, report_rows = fold.take_reports()
        await replace_rows(
            conn, "report_obligations", "obligation_id", oids, REPORT_COLUMNS, report_rows
        )

    return ReadModel(
        ["queue_entries", "ticket_deadlines", "report_obligations"], source_sql(OWN), apply,
        flush,
        refusal=missing_history,
    )  # fmt: skip
