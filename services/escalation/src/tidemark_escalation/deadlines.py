"""The deadline a queue shows for a ticket, learnt from the sla-timer's events. Pure.

A ticket has at most one open obligation at a time (SPEC 1.5). Its deadline is that of the
obligation last started; a target change or resumption moves it, a pause blanks it (paused
time does not count, so there is no deadline), being met ends it. Events of an older
obligation never touch a newer one's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tidekit.events.base import DomainEvent
from tidekit.events.sla import ClockMet, ClockPaused, ClockResumed, ClockStarted, TargetChanged

DEADLINE_EVENTS = (ClockStarted, TargetChanged, ClockPaused, ClockResumed, ClockMet)


@dataclass(frozen=True)
class Due:
    obligation_id: str
    deadline: datetime | None


def next_due(current: Due | None, event: DomainEvent) -> Due | None:
    """The ticket's deadline after `event` (None: no open obligation)."""
    if isinstance(event, ClockStarted):
        return Due(event.obligation_id, event.deadline)
    oid = getattr(event, "obligation_id", None)
    if current is None or oid != current.obligation_id:
        return current
    if isinstance(event, TargetChanged):
        return Due(oid, event.new_deadline)
    if isinstance(event, ClockPaused):
        return Due(oid, None)
    if isinstance(event, ClockResumed):
        return Due(oid, event.deadline)
    if isinstance(event, ClockMet):
        return None
    return current
