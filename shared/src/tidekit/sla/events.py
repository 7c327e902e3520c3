"""What happens to a ticket, as far as its response clocks care: the engine's input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .names import Level, Severity


@dataclass(frozen=True)
class Submitted:
    at: datetime


@dataclass(frozen=True)
class CustomerMessage:
    at: datetime


@dataclass(frozen=True)
class StaffReplied:
    at: datetime


@dataclass(frozen=True)
class OnHold:
    at: datetime


@dataclass(frozen=True)
class Resumed:
    at: datetime


@dataclass(frozen=True)
class Resolved:
    at: datetime


@dataclass(frozen=True)
class Reopened:
    at: datetime


@dataclass(frozen=True)
class Reclassified:
    at: datetime
    level: Level | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Escalated:
    """Handed to a department with its own level (the `development` level of SPEC 1.1): the
    open obligation is met by the hand-over and a new one starts under that level."""

    at: datetime
    level: Level


TicketEvent = (
    Submitted
    | CustomerMessage
    | StaffReplied
    | OnHold
    | Resumed
    | Resolved
    | Reopened
    | Reclassified
    | Escalated
)
