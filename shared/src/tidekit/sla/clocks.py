"""Response obligations of one ticket, as `evolve(state, event)` and queries on the state.

Rules (SPEC 1.5): the first response starts at submission and is met by the first public
staff reply; a customer message while no staff reply is pending starts a next response
with the same target; on_hold pauses the running clock and paused time does not count; a
re-open starts a new obligation; a re-classification recomputes the running deadline from
the obligation's original start under the new target. An expired entitlement gives no
obligations. Resolving a ticket stops (meets) a clock still running: the desk has acted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from tidekit.events.vocabulary import Entitlement, Level, ObligationKind, Severity

from .calendar import Segment, instant_reaching, spent
from .policy import Leg, Policy, Target, target_for

ObligationState = Literal["running", "paused", "met", "breached"]


# --- what happens to a ticket (the engine's input) -----------------------------------------
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


# --- state ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Obligation:
    number: int
    kind: ObligationKind
    started_at: datetime
    segments: tuple[Segment, ...]  # running stretches; the last is open while running
    target: Target
    met_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.met_at is None

    @property
    def running(self) -> bool:
        return self.open and bool(self.segments) and self.segments[-1][1] is None

    def close_segment(self, at: datetime) -> Obligation:
        if not self.running:
            return self
        start, _ = self.segments[-1]
        return replace(self, segments=(*self.segments[:-1], (start, max(at, start))))

    def deadline(self) -> datetime | None:
        """None while paused (SPEC 1.9); for a met clock, the deadline it was held to."""
        if self.open and not self.running:
            return None
        due = self._legs_due(1.0)
        return min(t for t, _ in due) if due else None

    def warning_at(self, share: float) -> datetime | None:
        """When `share` of the governing (earliest-due) leg's target has elapsed."""
        if self.open and not self.running:
            return None
        due = self._legs_due(1.0)
        if not due:
            return None
        _, governing = min(due, key=lambda pair: pair[0])
        return instant_reaching(governing.calendar, self._measured(), governing.duration * share)

    def _legs_due(self, share: float) -> list[tuple[datetime, Leg]]:
        segments = self._measured()
        due = []
        for leg in self.target.legs:
            at = instant_reaching(leg.calendar, segments, leg.duration * share)
            if at is not None:
                due.append((at, leg))
        return due

    def _measured(self) -> tuple[Segment, ...]:
        """The segments to measure against: a clock met while running is measured as if it
        had kept running (to say when it was due); a paused one has no open end."""
        if self.met_at is not None and self.segments and self.segments[-1][1] == self.met_at:
            start, _ = self.segments[-1]
            return (*self.segments[:-1], (start, None))
        if self.met_at is not None:
            return ()  # met while paused: it was not being held to a deadline
        return self.segments


@dataclass(frozen=True)
class TicketClocks:
    policy: Policy
    level: Level
    severity: Severity | None
    entitlement: Entitlement
    obligations: tuple[Obligation, ...] = ()
    on_hold: bool = False
    resolved: bool = False
    last_event_at: datetime | None = None

    @property
    def current(self) -> Obligation | None:
        """The obligation awaiting a staff reply, if any."""
        if self.obligations and self.obligations[-1].open:
            return self.obligations[-1]
        return None


def initial(
    policy: Policy,
    level: Level,
    severity: Severity | None = None,
    entitlement: Entitlement = "active",
) -> TicketClocks:
    return TicketClocks(policy, level, severity, entitlement)


def _start(state: TicketClocks, kind: ObligationKind, at: datetime) -> TicketClocks:
    if state.entitlement == "expired":
        return state
    ob = Obligation(
        number=len(state.obligations) + 1,
        kind=kind,
        started_at=at,
        segments=() if state.on_hold else ((at, None),),
        target=target_for(state.policy, state.level, state.severity),
    )
    return replace(state, obligations=(*state.obligations, ob))


def _replace_current(state: TicketClocks, ob: Obligation) -> TicketClocks:
    return replace(state, obligations=(*state.obligations[:-1], ob))


def evolve(state: TicketClocks, event: TicketEvent) -> TicketClocks:
    state = replace(state, last_event_at=event.at)
    current = state.current
    match event:
        case Submitted():
            return _start(state, "first_response", event.at) if not state.obligations else state
        case CustomerMessage():
            if current is None and not state.resolved and state.obligations:
                return _start(state, "next_response", event.at)
            return state
        case StaffReplied() | Resolved():
            if current is not None:
                state = _replace_current(
                    state, replace(current.close_segment(event.at), met_at=event.at)
                )
            return replace(state, resolved=True) if isinstance(event, Resolved) else state
        case OnHold():
            if current is not None:
                state = _replace_current(state, current.close_segment(event.at))
            return replace(state, on_hold=True)
        case Resumed():
            if current is not None and state.on_hold and not current.running:
                state = _replace_current(
                    state, replace(current, segments=(*current.segments, (event.at, None)))
                )
            return replace(state, on_hold=False)
        case Reopened():
            state = replace(state, resolved=False, on_hold=False)
            return _start(state, "next_response", event.at)
        case Reclassified():
            state = replace(
                state,
                level=event.level or state.level,
                severity=event.severity if event.severity else state.severity,
            )
            if current is not None:  # from the original start, under the new target
                target = target_for(state.policy, state.level, state.severity)
                state = _replace_current(state, replace(current, target=target))
            return state
    raise TypeError(f"unknown event {event!r}")


# --- queries --------------------------------------------------------------------------
@dataclass(frozen=True)
class ObligationView:
    obligation_id: int
    kind: ObligationKind
    started_at: datetime
    deadline: datetime | None
    warning_at: datetime | None
    paused_seconds: int
    state: ObligationState
    target: Target
    policy_version: str


def view(state: TicketClocks, ob: Obligation, now: datetime) -> ObligationView:
    deadline = ob.deadline()
    warning_at = ob.warning_at(state.policy.warning_share)
    if ob.met_at is not None:
        status: ObligationState = "met"
    elif not ob.running:
        status = "paused"
    elif deadline is not None and deadline <= now:
        status = "breached"
    else:
        status = "running"
    end = ob.met_at or now
    wall = max(end - ob.started_at, timedelta(0))
    running = sum(((min(e or end, end) - s) for s, e in ob.segments if s < end), timedelta(0))
    paused = max(wall - running, timedelta(0))
    return ObligationView(
        ob.number,
        ob.kind,
        ob.started_at,
        deadline,
        warning_at,
        int(paused.total_seconds()),
        status,
        ob.target,
        ob.target.policy_version,
    )


def obligations(state: TicketClocks, now: datetime | None = None) -> list[ObligationView]:
    """Every obligation of the ticket, with its state as of `now` (default: last event)."""
    moment = now or state.last_event_at
    if moment is None:
        return []
    return [view(state, ob, moment) for ob in state.obligations]


def next_due(state: TicketClocks, after: datetime) -> datetime | None:
    """The next warning or breach instant after `after` of a running obligation."""
    current = state.current
    if current is None or not current.running:
        return None
    due = [
        t
        for t in (current.warning_at(state.policy.warning_share), current.deadline())
        if t is not None and t > after
    ]
    return min(due) if due else None


def open_time_spent(ob: Obligation, now: datetime) -> timedelta:
    """Open calendar time the governing leg has consumed by `now` (for displays)."""
    leg = min(ob.target.legs, key=lambda leg: leg.duration)
    return spent(leg.calendar, ob.segments, now)
