"""Events owned by the sla-timer service (topic tidemark.sla.v1).

Every event that carries a target also carries the policy version it was computed under.
"""

from __future__ import annotations

from pydantic import Field

from .base import DomainEvent, event
from .vocabulary import Level, ObligationKind, Severity, UtcDatetime


class _ObligationEvent(DomainEvent):
    tid: str
    obligation_id: str = Field(description="<tid>/<sequence number of the obligation>")


@event
class ClockStarted(_ObligationEvent):
    event_type = "sla.clock_started"
    kind: ObligationKind
    level: Level
    severity: Severity | None
    started_at: UtcDatetime
    deadline: UtcDatetime
    warning_at: UtcDatetime
    target_seconds: int
    calendar: str
    policy_version: str


@event
class ClockPaused(_ObligationEvent):
    event_type = "sla.clock_paused"
    paused_at: UtcDatetime
    elapsed_seconds: int


@event
class ClockResumed(_ObligationEvent):
    event_type = "sla.clock_resumed"
    resumed_at: UtcDatetime
    deadline: UtcDatetime
    warning_at: UtcDatetime


@event
class ClockMet(_ObligationEvent):
    event_type = "sla.clock_met"
    met_at: UtcDatetime
    deadline: UtcDatetime | None
    elapsed_seconds: int


@event
class TargetChanged(_ObligationEvent):
    event_type = "sla.target_changed"
    level: Level
    severity: Severity | None
    old_deadline: UtcDatetime | None
    new_deadline: UtcDatetime | None
    old_target_seconds: int
    new_target_seconds: int
    policy_version: str
    changed_at: UtcDatetime
    old_policy_version: str | None = Field(
        default=None, description="the policy version the old deadline was computed under"
    )


@event
class SlaWarning(_ObligationEvent):
    event_type = "sla.warning"
    kind: ObligationKind
    warning_at: UtcDatetime
    deadline: UtcDatetime
    emitted_at: UtcDatetime
    lateness_seconds: float = Field(ge=0, description="emitted_at - warning_at")
    policy_version: str


@event
class SlaBreached(_ObligationEvent):
    event_type = "sla.breached"
    kind: ObligationKind
    level: Level
    severity: Severity | None
    deadline: UtcDatetime
    emitted_at: UtcDatetime
    lateness_seconds: float = Field(ge=0, description="emitted_at - deadline")
    policy_version: str
