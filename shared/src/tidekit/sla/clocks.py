"""Response obligations of one ticket, as `evolve(state, event) -> state` (SPEC 1.5).

The first response starts at submission and is met by the first public staff reply; a
customer message while no staff reply is pending starts a next response with the same
target; on_hold pauses the running clock and paused time does not count; a re-open starts a
new obligation; a re-classification recomputes the running deadline from the obligation's
original start under the new target. An expired entitlement gives no obligations. Resolving
a ticket stops (meets) a clock still running: the desk has acted. The state is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tidekit.events.vocabulary import Entitlement, Level, ObligationKind, Severity

from .calendar import Segment, instant_reaching
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
from .policy import Leg, Policy, Target, target_for


@dataclass(frozen=True)
class Obligation:
    number: int  # 1, 2, ... within the ticket
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

    def governing(self) -> tuple[datetime, Leg] | None:
        """The earliest-due leg and its deadline; None while no deadline is known (paused
        before the target was used up, or met while paused)."""
        segments = self._measured()
        best: tuple[datetime, Leg] | None = None
        for leg in self.target.legs:
            at = instant_reaching(leg.calendar, segments, leg.duration)
            if at is not None and (best is None or at < best[0]):
                best = (at, leg)
        return best

    def deadline(self) -> datetime | None:
        """The earliest instant the open, unpaused time reaches the target. None while
        paused, unless the target was already used up before the pause (then: breached)."""
        found = self.governing()
        return None if found is None else found[0]

    def warning_at(self, share: float) -> datetime | None:
        """When `share` of the governing (earliest-due) leg's target has elapsed."""
        found = self.governing()
        if found is None:
            return None
        _, leg = found
        return instant_reaching(leg.calendar, self._measured(), leg.duration * share)

    def _measured(self) -> tuple[Segment, ...]:
        """The stretches to measure against. A clock met while running is measured as if it
        had kept running (to say when it was due)."""
        if self.met_at is not None and self.segments and self.segments[-1][1] == self.met_at:
            start, _ = self.segments[-1]
            return (*self.segments[:-1], (start, None))
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
        """The obligation awaiting a staff reply, if any (at most one is open)."""
        if self.obligations and self.obligations[-1].open:
            return self.obligations[-1]
        return None


def initial(
    policy: Policy,
    level: Level,
    severity: Severity | None = None,
    entitlement: Entitlement = "active",
) -> TicketClocks:
    """A ticket with no events yet."""
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
    """The state after `event`. Events are expected in time order."""
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
            was_on_hold = state.on_hold
            state = replace(state, resolved=False, on_hold=False)
            if current is None:
                return _start(state, "next_response", event.at)
            if was_on_hold and not current.running:  # a re-open also ends a hold
                state = _replace_current(
                    state, replace(current, segments=(*current.segments, (event.at, None)))
                )
            return state
        case Reclassified():
            state = replace(
                state,
                level=event.level or state.level,
                severity=event.severity or state.severity,
            )
            if current is not None:  # from the original start, under the new target
                target = target_for(state.policy, state.level, state.severity)
                state = _replace_current(state, replace(current, target=target))
            return state
    raise TypeError(f"unknown event {event!r}")
