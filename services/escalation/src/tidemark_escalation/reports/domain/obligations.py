"""One response obligation as the reports need it, folded from the sla-timer's events. Pure.

The fold (an obligation's last stated deadline, level and severity) is the one of
docs/sla.md, "SLA attainment", which examples/sla_attainment.py applies too. Besides, the
reports keep the queue the ticket was in when the obligation was decided and the time it
spent paused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tidekit.events.base import DomainEvent
from tidekit.events.sla import (
    ClockMet,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    SlaBreached,
    TargetChanged,
)

REPORTED_EVENTS = (ClockStarted, ClockPaused, ClockResumed, TargetChanged, ClockMet, SlaBreached)


@dataclass(frozen=True)
class ObligationRecord:
    obligation_id: str
    tid: str
    kind: str
    level: str
    severity: str | None
    queue: str | None
    started_at: datetime
    deadline: datetime | None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    paused_seconds: float = 0.0
    paused_since: datetime | None = None

    @property
    def decided(self) -> bool:
        """Replied to or breached: its queue is no longer followed."""
        return self.met_at is not None or self.breached_at is not None


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())


def _end_pause(record: ObligationRecord, at: datetime) -> ObligationRecord:
    if record.paused_since is None:
        return record
    return replace(
        record,
        paused_seconds=record.paused_seconds + _seconds(at, record.paused_since),
        paused_since=None,
    )


def evolve(
    record: ObligationRecord | None, event: DomainEvent, queue: str | None
) -> ObligationRecord | None:
    """The obligation after `event`. `queue` is the ticket's queue as escalation knows it
    before handling the event (so a breach is charged to the queue that let it happen).
    Events of an obligation whose start was never seen change nothing (None stays None)."""
    if isinstance(event, ClockStarted):
        if record is not None:
            return record  # a repeat: the first start stands
        return ObligationRecord(
            obligation_id=event.obligation_id,
            tid=event.tid,
            kind=event.kind,
            level=event.level,
            severity=event.severity,
            queue=queue,
            started_at=event.started_at,
            deadline=event.deadline,
        )
    if record is None:
        return None
    if queue is not None and not record.decided:
        record = replace(record, queue=queue)
    if isinstance(event, ClockPaused):
        if record.paused_since is not None:
            return record
        return replace(record, paused_since=event.paused_at, deadline=None)
    if isinstance(event, ClockResumed):
        return replace(_end_pause(record, event.resumed_at), deadline=event.deadline)
    if isinstance(event, TargetChanged):
        return replace(
            record, level=event.level, severity=event.severity, deadline=event.new_deadline
        )
    if isinstance(event, ClockMet):
        if record.met_at is not None:
            return record
        ended = _end_pause(record, event.met_at)
        return replace(ended, met_at=event.met_at, deadline=event.deadline or ended.deadline)
    if isinstance(event, SlaBreached):
        return replace(record, breached_at=event.deadline, deadline=event.deadline)
    return record
