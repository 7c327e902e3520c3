"""The SLA timer's pure decisions, on top of the shared SLA engine (`tidekit.sla`).

The engine owns the rules (targets, calendars, obligations); this module only turns its
answers into the timer's events.
"""

from __future__ import annotations

from datetime import datetime

from tidekit import sla
from tidekit.events.classifier import TicketClassified
from tidekit.events.sla import ClockStarted


def clocks_after_classification(
    policy: sla.Policy, classified: TicketClassified, now: datetime
) -> list[ClockStarted]:
    """The first-response clock a classified ticket owes, started at its submission."""
    state = sla.initial(policy, classified.level, classified.severity, classified.entitlement)
    state = sla.evolve(state, sla.Submitted(at=classified.submitted_at))
    started: list[ClockStarted] = []
    for n, view in enumerate(sla.obligations(state, now), start=1):
        if view.deadline is None or view.warning_at is None:
            continue
        started.append(
            ClockStarted(
                tid=classified.tid,
                obligation_id=f"{classified.tid}/{n}",
                kind=view.kind,
                level=classified.level,
                severity=classified.severity,
                started_at=view.started_at,
                deadline=view.deadline,
                warning_at=view.warning_at,
                target_seconds=int(view.target.duration.total_seconds()),
                calendar=view.target.calendar.name,
                policy_version=view.policy_version,
            )
        )
    return started
