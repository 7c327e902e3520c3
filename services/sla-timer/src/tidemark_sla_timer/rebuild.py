"""`tidemark-ops rebuild sla-timer`: the sla-timer's tables from the events it consumed
(recorded in consumed_events) and its own sla.warning / sla.breached, in recorded order.

The handler is re-run in memory with the pure halves it uses (`input_for`, `replay`,
`pending_events`, `target_changes`, `timers_for`): each consumed event adds the ticket's
facts (`sla_tickets`) or a clock input (`clock_inputs`) and the emitted-once keys the
handler stored (`sla_emitted`); each sla.warning / sla.breached the scheduler emitted adds its
key and, for a breach, its `breaches` row (the event carries every column). `timers` are
then what the ticket's clocks still owe, computed once at the end.

Copied from the live rows (`fix_up`), as no event carries them: the serial numbers of
`clock_inputs` (each ticket's inputs are matched in order, and the target-change keys of
`sla_emitted` follow them) and of `breaches`, and `sla_emitted.emitted_at` of the keys the
handlers stored (the handler's clock reading). The clocks are replayed with the policy in
force, as the ticket's next event would. `obligations` (migration 0001) is written by
nothing and is left as it is. Keep `ClockFold` in step with service.SlaTimerService._apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count

import asyncpg

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified
from tidekit.events.sla import SlaBreached, SlaWarning
from tidekit.store.consumed import missing_history, source_sql
from tidekit.store.rebuild import Batch, ReadModel, replace_rows, stored_event

from .domain import (
    ClockInput,
    EmitKey,
    TicketFacts,
    pending_events,
    replay,
    target_changes,
    timers_for,
)
from .repo import TIMER_COLUMNS, timer_values
from .service import input_for
from .settings import SlaTimerSettings

TABLES = ["sla_tickets", "clock_inputs", "sla_emitted", "timers", "breaches"]
# Input serials of the fold, far above any live one until fix_up copies the live ones.
SEQ_BASE = 1 << 60
BREACH_COLUMNS = ("obligation_id", "tid", "deadline", "emitted_at", "kind", "level", "severity",
                  "policy_version", "lateness_seconds")  # fmt: skip


@dataclass
class ClockFold:
    policy: sla.Policy
    facts: dict[str, tuple[TicketFacts, datetime] | None] = field(default_factory=dict)
    inputs: dict[str, list[ClockInput]] = field(default_factory=dict)
    emitted: dict[str, dict[EmitKey, datetime]] = field(default_factory=dict)
    breaches: dict[str, tuple[object, ...]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    seq: count[int] = field(default_factory=lambda: count(SEQ_BASE))

    def apply_foreign(self, event: DomainEvent, at: datetime) -> None:
        """service.on_event; `at` stands for the handler's clock reading."""
        tid = event.stream_id()
        if isinstance(event, TicketClassified):
            if self.facts.get(tid) is not None:
                return  # classified before: later changes come as ticket.reclassified
            facts = TicketFacts(event.level, event.severity, event.entitlement, event.submitted_at)
            self.facts[tid] = (facts, event.classified_at)
            self._decide(tid, None, at)
        elif (item := input_for(event)) is not None:
            self.facts.setdefault(tid, None)
            self._decide(tid, replace(item, seq=next(self.seq)), at)

    def _decide(self, tid: str, item: ClockInput | None, at: datetime) -> None:
        self.dirty.add(tid)
        inputs = self.inputs.setdefault(tid, [])
        before = replay(self.policy, self._facts(tid), inputs) if item else None
        if item is not None:
            inputs.append(item)
        after = replay(self.policy, self._facts(tid), inputs)
        if after is None:
            return
        emitted = self.emitted.setdefault(tid, {})
        pending = pending_events(tid, after, set(emitted))
        if item is not None and item.kind == "reclassified":
            pending += target_changes(tid, before, after, item.at, item.seq)
        for p in pending:
            emitted.setdefault(p.key, at)

    def apply_own(self, event: SlaWarning | SlaBreached) -> None:
        """The scheduler's claim: the timer's key, and a breach's row."""
        tid, oid = event.tid, event.obligation_id
        kind = "warning" if isinstance(event, SlaWarning) else "breach"
        self.emitted.setdefault(tid, {}).setdefault((oid, kind, 0), event.emitted_at)
        self.dirty.add(tid)
        if isinstance(event, SlaBreached) and oid not in self.breaches:
            self.breaches[oid] = (
                oid, tid, event.deadline, event.emitted_at, event.kind, event.level,
                event.severity, event.policy_version, event.lateness_seconds,
            )  # fmt: skip

    def _facts(self, tid: str) -> TicketFacts | None:
        known = self.facts.get(tid)
        return known[0] if known else None

    def take_dirty(self) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
        """Per table: the tids to replace and their rows."""
        tids, self.dirty = sorted(self.dirty), set()
        out: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {t: (tids, []) for t in TABLES}
        for tid in tids:
            if tid in self.facts:
                out["sla_tickets"][1].append(self._ticket_row(tid))
            for i in self.inputs.get(tid, []):
                out["clock_inputs"][1].append(
                    (i.seq, tid, i.at, i.kind, i.status, i.level, i.severity)
                )
            emitted = self.emitted.get(tid, {})
            for (oid, kind, seq), emitted_at in emitted.items():
                out["sla_emitted"][1].append((oid, kind, seq, tid, emitted_at))
            state = replay(self.policy, self._facts(tid), self.inputs.get(tid, []))
            if state is not None:
                timers = timers_for(tid, state, set(emitted))
                out["timers"][1].extend(timer_values(t) for t in timers)
        changed = set(tids)
        out["breaches"] = (tids, [b for b in self.breaches.values() if b[1] in changed])
        return out

    def _ticket_row(self, tid: str) -> tuple[object, ...]:
        known = self.facts[tid]
        if known is None:
            return (tid, None, None, None, None, None)
        f, classified_at = known
        return (tid, f.level, f.severity, f.entitlement, f.submitted_at, classified_at)


COLUMNS = {
    "sla_tickets": ("tid", "level", "severity", "entitlement", "submitted_at", "classified_at"),
    "clock_inputs": ("seq", "tid", "at", "kind", "status", "level", "severity"),
    "sla_emitted": ("obligation_id", "kind", "seq", "tid", "emitted_at"),
    "timers": tuple(c.strip() for c in TIMER_COLUMNS.split(",")),
    "breaches": BREACH_COLUMNS,
}

# Each ticket's k-th input (in serial order) in the scratch table is the live one's when they
# say the same: it takes the live serial, and so do the target-change keys it caused.
SERIALS = """
CREATE TEMP TABLE serials ON COMMIT DROP AS
SELECT s.seq AS fold_seq, l.seq AS live_seq FROM
    (SELECT *, row_number() OVER (PARTITION BY tid ORDER BY seq) AS k FROM {scratch}.clock_inputs) s
    JOIN (SELECT *, row_number() OVER (PARTITION BY tid ORDER BY seq) AS k
          FROM {live}.clock_inputs) l USING (tid, k)
WHERE s.seq <> l.seq AND (s.at, s.kind) = (l.at, l.kind)
  AND (s.status, s.level, s.severity) IS NOT DISTINCT FROM (l.status, l.level, l.severity);
UPDATE {scratch}.clock_inputs c SET seq = m.live_seq FROM serials m WHERE c.seq = m.fold_seq;
UPDATE {scratch}.sla_emitted e SET seq = m.live_seq FROM serials m
WHERE e.kind = 'target_changed' AND e.seq = m.fold_seq;
UPDATE {scratch}.sla_emitted s SET emitted_at = l.emitted_at FROM {live}.sla_emitted l
WHERE (s.obligation_id, s.kind, s.seq) = (l.obligation_id, l.kind, l.seq)
  AND s.emitted_at <> l.emitted_at;
UPDATE {scratch}.breaches s SET seq = l.seq FROM {live}.breaches l
WHERE s.obligation_id = l.obligation_id AND s.seq <> l.seq;
"""


def read_model() -> ReadModel:
    """The sla-timer's read model for tidekit.store.rebuild (entry point `tidemark.rebuild`)."""
    fold = ClockFold(sla.load_policy(SlaTimerSettings().policy_file))

    async def apply(conn: asyncpg.Connection, rows: Batch) -> None:
        for row in rows:
            event = stored_event(row)
            if row["origin"] == "foreign":
                fold.apply_foreign(event, row["recorded_at"])
            elif isinstance(event, SlaWarning | SlaBreached):
                fold.apply_own(event)

    async def flush(conn: asyncpg.Connection) -> None:
        for table, (tids, rows) in fold.take_dirty().items():
            await replace_rows(conn, table, "tid", tids, COLUMNS[table], rows)

    async def fix_up(conn: asyncpg.Connection, live: str, scratch: str) -> None:
        await conn.execute(SERIALS.format(live=live, scratch=scratch))

    return ReadModel(
        TABLES, source_sql(("sla.warning", "sla.breached")), apply, flush, fix_up, missing_history
    )
