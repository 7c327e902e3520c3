"""The SLA rules as one pure package: policy, calendars, obligations. No I/O, no clock reads.

Every service that needs a deadline uses this package, and so does the `tidemark-sla`
command; see docs/sla.md.
"""

from .calendar import Calendar, CalendarError, Holidays, add, elapsed, instant_reaching
from .clocks import Obligation, TicketClocks, evolve, initial
from .events import (
    CustomerMessage,
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
    "Calendar",
    "CalendarError",
    "CustomerMessage",
    "DueKind",
    "Holidays",
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
