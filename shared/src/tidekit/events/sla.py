"""Events owned by the sla-timer service (topic tidemark.sla.v1).

Every event that carries a target also carries the policy version it was computed under.
`sla.clock_resumed` and `sla.clock_met` did not in schema version 1; their version 2 does,
and a version 1 record reads with `policy_version` None: not recorded, never guessed.
"""

from __future__ import annotations

from pydantic import Field

from .base import DomainEvent, JsonDict, event, registry
from .vocabulary import Level, ObligationKind, Severity, UtcDatetime


class _ObligationEvent(DomainEvent):
    tid: str
    obligation_id: str = Field(description="<tid>/<sequence number of the obligation>")


_POLICY_VERSION = (
    "the policy version the deadline was computed under; null only on records of schema "
    "version 1, which did not record it"
)


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
    schema_version = 2  # 2: policy_version
    resumed_at: UtcDatetime
    deadline: UtcDatetime
    warning_at: UtcDatetime
    policy_version: str | None = Field(default=None, description=_POLICY_VERSION)


@event
class ClockMet(_ObligationEvent):
    event_type = "sla.clock_met"
    schema_version = 2  # 2: policy_version
    met_at: UtcDatetime
    deadline: UtcDatetime | None
    elapsed_seconds: int
    policy_version: str | None = Field(default=None, description=_POLICY_VERSION)


@registry.upcaster("sla.clock_resumed", from_version=1)
@registry.upcaster("sla.clock_met", from_version=1)
def _policy_version_not_recorded(data: JsonDict) -> JsonDict:
    return {**data, "policy_version": None}


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
