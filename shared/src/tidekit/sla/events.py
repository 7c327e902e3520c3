"""What happens to a ticket, as far as its response clocks care: the engine's input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Final

from .names import Level, Severity


class Keep(Enum):
    """The type of `KEEP`: a field a re-classification does not mention."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
"""A re-classification field left as it was. For the severity it differs from None, which
is a value: the ticket has no severity (an explicit `"severity": null` clears it)."""


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
    """A new level and/or severity. A field left at `KEEP` keeps the ticket's value;
    `severity=None` clears the severity (the level then gives the target alone)."""

    at: datetime
    level: Level | Keep = KEEP
    severity: Severity | Keep | None = KEEP


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
