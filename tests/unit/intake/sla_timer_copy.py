"""The sla.* events the sla-timer publishes for a scripted ticket, made by the sla-timer's own
pure code (`tidekit.sla` and `tidemark_sla_timer.domain`) without Kafka or a database, and
the sla-timer's own view of the obligations (what its GET /v1/tickets/{tid}/sla answers).

Intake's ticket view is fed these events and must say what the sla-timer says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.sla.names import Level, Severity
from tidemark_sla_timer.domain import EmitKey, fire, pending_events, target_changes, timers_for

POLICY = sla.load_policy()


@dataclass
class SlaTimerCopy:
    tid: str
    state: sla.TicketClocks
    emitted: set[EmitKey] = field(default_factory=set)
    published: list[DomainEvent] = field(default_factory=list)
    inputs: int = 0

    @classmethod
    def submitted(
        cls, tid: str, at: datetime, level: Level = "commercial", severity: Severity | None = None
    ) -> SlaTimerCopy:
        copy = cls(tid, sla.initial(POLICY, level, severity))
        copy.apply(sla.Submitted(at))
        return copy

    def advance(self, to: datetime) -> list[DomainEvent]:
        """Fire the warnings and breaches due up to `to`, each at its due instant."""
        fired: list[DomainEvent] = []
        while True:
            due = sorted(
                (t for t in timers_for(self.tid, self.state, self.emitted) if t.due_at <= to),
                key=lambda t: t.due_at,
            )
            if not due:
                break
            self.emitted.add((due[0].obligation_id, due[0].kind, 0))
            fired.append(fire(due[0], due[0].due_at))
        self.published += fired
        return fired

    def apply(self, event: sla.TicketEvent) -> list[DomainEvent]:
        """The timers due before `event`, then what the event makes the sla-timer emit."""
        out = self.advance(event.at)
        before, self.state = self.state, sla.evolve(self.state, event)
        self.inputs += 1
        pending = [
            *target_changes(self.tid, before, self.state, event.at, self.inputs),
            *pending_events(self.tid, self.state, self.emitted),
        ]
        for p in pending:
            self.emitted.add(p.key)
        self.published += [p.event for p in pending]
        return out + [p.event for p in pending]

    def view(self, now: datetime) -> dict[str, sla.ObligationView]:
        """The sla-timer's obligations as of `now`, by obligation id."""
        moment = max(now, self.state.last_event_at or now)
        return {f"{self.tid}/{v.obligation_id}": v for v in sla.obligations(self.state, moment)}
