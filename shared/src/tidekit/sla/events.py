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


TicketEvent = (
    Submitted
    | CustomerMessage
    | StaffReplied
    | OnHold
    | Resumed
    | Resolved
    | Reopened
    | Reclassified
)
