"""Queries on a ticket's clocks: what is owed, by when, and what the timer must wake for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .calendar import spent
from .clocks import Obligation, TicketClocks
from .names import ObligationKind
from .policy import Target

ObligationState = Literal["running", "paused", "met", "breached"]
DueKind = Literal["warning", "breach"]


@dataclass(frozen=True)
class ObligationView:
    obligation_id: int  # the obligation's number within the ticket (1, 2, ...)
    kind: ObligationKind
    started_at: datetime
    deadline: datetime | None  # None while paused (until it resumes)
    warning_at: datetime | None
    paused_seconds: int  # wall time since the start (up to the reply or `now`) not running
    state: ObligationState
    target: Target
    policy_version: str
    met_at: datetime | None = None


def _state(ob: Obligation, deadline: datetime | None, now: datetime) -> ObligationState:
    if ob.met_at is not None:  # a reply at the deadline instant is on time
        return "breached" if deadline is not None and deadline < ob.met_at else "met"
    if deadline is not None and deadline <= now:
        return "breached"  # also when paused after the target was used up
    return "running" if ob.running else "paused"


def view(state: TicketClocks, ob: Obligation, now: datetime) -> ObligationView:
    """One obligation as of `now`: met (replied in time), breached (the deadline passed
    first, replied since or not), paused, or running."""
    deadline = ob.deadline()
    warning_at = ob.warning_at(state.policy.warning_share)
    end = ob.met_at or now
    wall = max(end - ob.started_at, timedelta(0))
    running = sum((min(e or end, end) - s for s, e in ob.segments if s < end), timedelta(0))
    paused = max(wall - running, timedelta(0))
    return ObligationView(
        obligation_id=ob.number,
        kind=ob.kind,
        started_at=ob.started_at,
        deadline=deadline,
        warning_at=warning_at,
        paused_seconds=int(paused.total_seconds()),
        state=_state(ob, deadline, now),
        target=ob.target,
        policy_version=ob.target.policy_version,
        met_at=ob.met_at,
    )


def obligations(state: TicketClocks, now: datetime | None = None) -> list[ObligationView]:
    """Every obligation of the ticket, oldest first, with its state as of `now` (default:
    the last event's time)."""
    moment = now or state.last_event_at
    if moment is None:
        return []
    return [view(state, ob, moment) for ob in state.obligations]


def next_due(state: TicketClocks, after: datetime) -> tuple[datetime, DueKind] | None:
    """The next warning or breach strictly after `after` of the running obligation, for a
    timer to schedule; None when nothing runs (no obligation, met, paused, expired)."""
    current = state.current
    if current is None or not current.running:
        return None
    warning = current.warning_at(state.policy.warning_share)
    deadline = current.deadline()
    if warning is not None and warning > after:
        return warning, "warning"
    if deadline is not None and deadline > after:
        return deadline, "breach"
    return None


def open_time_spent(ob: Obligation, now: datetime) -> timedelta:
    """Open calendar time the governing leg has consumed by `now` (for displays)."""
    found = ob.governing()
    leg = found[1] if found else min(ob.target.legs, key=lambda leg: leg.duration)
    return spent(leg.calendar, ob.segments, now)
