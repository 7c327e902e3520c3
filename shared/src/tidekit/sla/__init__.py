"""The SLA rules as one pure package: policy, calendars, obligations. No I/O, no clock reads:
every instant is passed in (timezone-aware; results come back in UTC).

Every service that needs a deadline uses this package, and so does the `tidemark-sla`
command; see docs/sla.md. The API:

    load_policy(path=None) -> Policy            the shipped default_policy.yaml, or a file
    Policy.version, Policy.warning_share, Policy.calendars[name] -> Calendar
    target_for(policy, level, severity) -> Target   (.duration, .calendar, .policy_version,
                                                   .legs: level leg and maybe severity leg)
    add(calendar, start, duration) -> datetime     earliest instant the open time reaches it
    elapsed(calendar, start, end) -> timedelta     open time between two instants
    instant_reaching(calendar, segments, amount)   the same across pauses (None: paused first)

    initial(policy, level, severity=None, entitlement="active") -> TicketClocks
    evolve(state, event) -> TicketClocks           events: Submitted, CustomerMessage,
                                                   StaffReplied, OnHold, Resumed, Resolved,
                                                   Reopened, Reclassified(level=KEEP,
                                                   severity=KEEP: None clears it),
                                                   Escalated(level)
    obligations(state, now=None) -> list[ObligationView]   kind, started_at, deadline,
                                                   warning_at, paused_seconds, state, target,
                                                   policy_version, met_at
    next_due(state, after) -> (instant, "warning" | "breach") | None   for a timer to schedule
"""

from .calendar import Calendar, CalendarError, Holidays, add, elapsed, instant_reaching
from .clocks import Obligation, TicketClocks, evolve, initial
from .events import (
    KEEP,
    CustomerMessage,
    Escalated,
    Keep,
    OnHold,
    Reclassified,
    Reopened,
    Resolved,
    Resumed,
    StaffReplied,
    Submitted,
    TicketEvent,
)
from .policy import Leg, Policy, PolicyError, Target, load_policy, parse_duration, target_for
from .queries import DueKind, ObligationState, ObligationView, next_due, obligations

__all__ = [
    "KEEP",
    "Calendar",
    "CalendarError",
    "CustomerMessage",
    "DueKind",
    "Escalated",
    "Holidays",
    "Keep",
    "Leg",
    "Obligation",
    "ObligationState",
    "ObligationView",
    "OnHold",
    "Policy",
    "PolicyError",
    "Reclassified",
    "Reopened",
    "Resolved",
    "Resumed",
    "StaffReplied",
    "Submitted",
    "Target",
    "TicketClocks",
    "TicketEvent",
    "add",
    "elapsed",
    "evolve",
    "initial",
    "instant_reaching",
    "load_policy",
    "next_due",
    "obligations",
    "parse_duration",
    "target_for",
]
