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
from functools import cached_property
from typing import Any

from .calendar import Segment, instant_reaching
from .events import (
    KEEP,
    CustomerMessage,
    Escalated,
    OnHold,
    Reclassified,
    Reopened,
    Resolved,
    Resumed,
    StaffReplied,
    Submitted,
    TicketEvent,
)
from .names import Entitlement, Level, ObligationKind, Severity
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
        return self._governing

    @cached_property
    def _governing(self) -> tuple[datetime, Leg] | None:
        segments = self._measured()
        best: tuple[datetime, Leg] | None = None
        for leg in self.target.contenders:
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


def _copy(state: TicketClocks, **changes: Any) -> TicketClocks:
    """`dataclasses.replace` without its per-call field walk (evolve is hot in the CLI)."""
    new = object.__new__(TicketClocks)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def _start(state: TicketClocks, kind: ObligationKind, at: datetime, **changes: Any) -> TicketClocks:
    if state.entitlement == "expired":
        return _copy(state, last_event_at=at, **changes)
    ob = Obligation(
        number=len(state.obligations) + 1,
        kind=kind,
        started_at=at,
        segments=() if changes.get("on_hold", state.on_hold) else ((at, None),),
        target=target_for(state.policy, state.level, state.severity),
    )
    return _copy(state, obligations=(*state.obligations, ob), last_event_at=at, **changes)


def _set_current(state: TicketClocks, ob: Obligation, at: datetime, **changes: Any) -> TicketClocks:
    return _copy(state, obligations=(*state.obligations[:-1], ob), last_event_at=at, **changes)


def _resume(ob: Obligation, at: datetime) -> Obligation:
    return replace(ob, segments=(*ob.segments, (at, None)))


def evolve(state: TicketClocks, event: TicketEvent) -> TicketClocks:
    """The state after `event`. Events are expected in time order."""
    at = event.at
    current = state.current
    match event:
        case Submitted():
            if not state.obligations:
                return _start(state, "first_response", at)
        case CustomerMessage():
            if current is None and not state.resolved and state.obligations:
                return _start(state, "next_response", at)
        case StaffReplied() | Resolved():
            resolved = state.resolved or isinstance(event, Resolved)
            if current is not None:
                met = replace(current.close_segment(at), met_at=at)
                return _set_current(state, met, at, resolved=resolved)
            return _copy(state, last_event_at=at, resolved=resolved)
        case OnHold():
            if current is not None:
                return _set_current(state, current.close_segment(at), at, on_hold=True)
            return _copy(state, last_event_at=at, on_hold=True)
        case Resumed():
            if current is not None and state.on_hold and not current.running:
                return _set_current(state, _resume(current, at), at, on_hold=False)
            return _copy(state, last_event_at=at, on_hold=False)
        case Reopened():
            if current is None:
                return _start(state, "next_response", at, resolved=False, on_hold=False)
            if state.on_hold and not current.running:  # a re-open also ends a hold
                current = _resume(current, at)
            return _set_current(state, current, at, resolved=False, on_hold=False)
        case Reclassified():
            # KEEP keeps; None is a severity too (none: the level's target alone)
            level = state.level if event.level is KEEP else event.level
            severity = state.severity if event.severity is KEEP else event.severity
            if current is None:
                return _copy(state, last_event_at=at, level=level, severity=severity)
            # the running obligation, from its original start, under the new target
            target = target_for(state.policy, level, severity)
            return _set_current(
                state, replace(current, target=target), at, level=level, severity=severity
            )
        case Escalated():
            # the hand-over is the desk acting on the open obligation (as Resolved is);
            # the receiving department owes a response under its own level from now on
            if current is not None:
                state = _set_current(state, replace(current.close_segment(at), met_at=at), at)
            return _start(_copy(state, level=event.level), "next_response", at, resolved=False)
        case _:
            raise TypeError(f"unknown event {event!r}")
    return _copy(state, last_event_at=at)
