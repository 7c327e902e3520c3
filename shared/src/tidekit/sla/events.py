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
    """The ticket came in: its first-response obligation starts at `at` (a second
    `Submitted` changes nothing)."""

    at: datetime


@dataclass(frozen=True)
class CustomerMessage:
    """The customer wrote: a next-response obligation starts unless a staff reply is
    already owed or the ticket is resolved."""

    at: datetime


@dataclass(frozen=True)
class StaffReplied:
    """A public staff reply: it meets the obligation that is running; with none
    running it changes nothing."""

    at: datetime


@dataclass(frozen=True)
class OnHold:
    """The ticket entered a pausing status (`Policy.pausing_statuses`): the running
    clock stops until `Resumed` or `Reopened`."""

    at: datetime


@dataclass(frozen=True)
class Resumed:
    """The ticket left its pausing status: a paused clock runs on from where it
    stopped (the time on hold does not count)."""

    at: datetime


@dataclass(frozen=True)
class Resolved:
    """The desk resolved the ticket: the running obligation is met, and customer
    messages start nothing until it is `Reopened`."""

    at: datetime


@dataclass(frozen=True)
class Reopened:
    """The ticket was opened again: a next-response obligation starts at `at` unless
    one is still open; a hold, if any, ends."""

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
