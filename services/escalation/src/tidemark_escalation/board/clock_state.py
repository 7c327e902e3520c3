"""What the board shows of a ticket's open obligation, learnt from the sla-timer's events.
Pure.

The countdown runs to `deadline`; past `warning_at` (75 % of the target) it is a warning,
past the deadline breached; a paused clock has no deadline. `warned`/`breached` record the
sla-timer's own verdicts, so a colour never goes back to "running" once it said more.
Events of an older obligation never touch a newer one (as in ..deadlines).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from tidekit.events.base import DomainEvent
from tidekit.events.sla import (
    ClockMet,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    SlaBreached,
    SlaWarning,
    TargetChanged,
)

CLOCK_EVENTS = (
    ClockStarted, TargetChanged, ClockPaused, ClockResumed, ClockMet, SlaWarning, SlaBreached,
)  # fmt: skip
CountdownState = Literal["running", "warning", "breached", "paused", "none"]


@dataclass(frozen=True)
class BoardClock:
    obligation_id: str
    kind: str | None
    deadline: datetime | None
    warning_at: datetime | None
    paused: bool = False
    warned: bool = False
    breached: bool = False
    met: bool = False


def next_clock(current: BoardClock | None, event: DomainEvent) -> BoardClock | None:
    """The clock after `event`; `met` set when the obligation was met (the row is kept for
    the first-reply record, the countdown ends)."""
    if isinstance(event, ClockStarted):
        return BoardClock(event.obligation_id, event.kind, event.deadline, event.warning_at)
    if current is None or getattr(event, "obligation_id", None) != current.obligation_id:
        return current
    if isinstance(event, TargetChanged):
        warning_at = None
        if current.warning_at and current.deadline and event.new_deadline:
            # The warning stays the same business time before the deadline, near enough.
            warning_at = current.warning_at + (event.new_deadline - current.deadline)
        return replace(current, deadline=event.new_deadline, warning_at=warning_at)
    if isinstance(event, ClockPaused):
        return replace(current, paused=True)
    if isinstance(event, ClockResumed):
        return replace(current, paused=False, deadline=event.deadline, warning_at=event.warning_at)
    if isinstance(event, SlaWarning):
        return replace(current, warned=True)
    if isinstance(event, SlaBreached):
        return replace(current, breached=True, warned=True)
    if isinstance(event, ClockMet):
        return replace(current, met=True, paused=False)
    return current


def countdown_state(clock: BoardClock | None, now: datetime) -> CountdownState:
    """The colour of the countdown at `now` (the browser computes the same as time passes)."""
    if clock is None or clock.met or (clock.deadline is None and not clock.paused):
        return "none"
    if clock.paused:
        return "paused"
    assert clock.deadline is not None
    if clock.breached or now >= clock.deadline:
        return "breached"
    if clock.warned or (clock.warning_at is not None and now >= clock.warning_at):
        return "warning"
    return "running"
