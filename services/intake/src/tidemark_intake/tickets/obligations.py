"""The ticket view's response obligations, folded from the sla-timer's sla.* events.

`evolve(view, event) -> view` keeps the facts the events state (start, deadline, running or
not, reply); `ObligationView.state(now)` decides the state from them exactly as the
sla-timer's own view does (`tidekit.sla.queries`), so GET /v1/tickets/{tid} and the
sla-timer's GET /v1/tickets/{tid}/sla always agree:

- replied (`sla.clock_met`): `breached` when the deadline came first, else `met` — a late
  reply does not undo the breach;
- otherwise `breached` once the deadline has passed (also while paused, when the target was
  used up before the pause), else `running` or `paused`.

No breach flag is kept: a re-classification that moves the deadline later (sla.target_changed)
makes a breached obligation run again, in the sla-timer's view and so in this one.
Pure: no I/O; the projection stores the views as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, get_args

from tidekit.events import sla
from tidekit.events.vocabulary import ObligationKind
from tidekit.literals import one_of
from tidekit.sla import ObligationState

ObligationEvent: TypeAlias = (
    sla.ClockStarted
    | sla.ClockPaused
    | sla.ClockResumed
    | sla.ClockMet
    | sla.TargetChanged
    | sla.SlaWarning
    | sla.SlaBreached
)
OBLIGATION_EVENTS: tuple[type[ObligationEvent], ...] = (
    sla.ClockStarted,
    sla.ClockPaused,
    sla.ClockResumed,
    sla.ClockMet,
    sla.TargetChanged,
    sla.SlaWarning,
    sla.SlaBreached,
)
OBLIGATION_KINDS: tuple[ObligationKind, ...] = get_args(ObligationKind)


@dataclass(frozen=True)
class ObligationView:
    obligation_id: str  # <tid>/<n>
    kind: ObligationKind
    started_at: datetime | None  # None only for one the sla-timer never started (see evolve)
    deadline: datetime | None  # None while paused, unless the target was used up before
    running: bool
    met_at: datetime | None = None
    since: datetime | None = None  # the instant of the last start, pause or resume
    seen_at: datetime | None = None  # the latest instant an event of it spoke of

    @property
    def number(self) -> int:
        return number_of(self.obligation_id)

    def state(self, now: datetime) -> ObligationState:
        """The state as of `now` (never before what the sla-timer has already said)."""
        moment = max(now, self.seen_at) if self.seen_at is not None else now
        if self.met_at is not None:  # a reply at the deadline instant is on time
            late = self.deadline is not None and self.deadline < self.met_at
            return "breached" if late else "met"
        if self.deadline is not None and self.deadline <= moment:
            return "breached"
        return "running" if self.running else "paused"


def number_of(obligation_id: str) -> int:
    """The obligation's number within its ticket: `TID-7/12` -> 12."""
    return int(obligation_id.rpartition("/")[2])


def ordered(views: Iterable[ObligationView]) -> list[ObligationView]:
    """Oldest first, by number (as text, `/10` would come before `/2`)."""
    return sorted(views, key=lambda v: v.number)


def _unstarted(obligation_id: str) -> ObligationView:
    # The sla-timer emits no sla.clock_started for an obligation that never ran (it began
    # while on hold and was met before a resume); only the first obligation of a ticket is a
    # first response.
    kind: ObligationKind = "first_response" if number_of(obligation_id) == 1 else "next_response"
    return ObligationView(obligation_id, kind, None, None, running=False)


def _instant_of(event: ObligationEvent) -> datetime:
    match event:
        case sla.ClockStarted():
            return event.started_at
        case sla.ClockPaused():
            return event.paused_at
        case sla.ClockResumed():
            return event.resumed_at
        case sla.ClockMet():
            return event.met_at
        case sla.TargetChanged():
            return event.changed_at
        case sla.SlaWarning() | sla.SlaBreached():
            return event.emitted_at
    raise TypeError(f"not an obligation event: {event!r}")


def evolve(view: ObligationView | None, event: ObligationEvent) -> ObligationView:
    """The view after one of the sla-timer's events about this obligation."""
    at = _instant_of(event)
    before = view or _unstarted(event.obligation_id)
    seen = at if before.seen_at is None else max(at, before.seen_at)
    stale = before.since is not None and at < before.since  # a late pause/resume: keep order
    kind, started_at, deadline = before.kind, before.started_at, before.deadline
    running, met_at, since = before.running, before.met_at, before.since
    # Each case says what changes; the view is built once below (a rebuild folds hundreds
    # of thousands of these: `dataclasses.replace` twice per event was a tenth of its time).
    match event:
        case sla.ClockStarted():
            kind, started_at = event.kind, event.started_at
            if not stale:
                deadline, running, since = event.deadline, True, at
        case sla.ClockPaused() if not stale:
            # the deadline stays known only when the target was used up before the pause
            used_up = deadline is not None and deadline <= at
            running, deadline, since = False, deadline if used_up else None, at
        case sla.ClockResumed() if not stale:
            running, deadline, since = True, event.deadline, at
        case sla.ClockMet():
            running, met_at, deadline = False, event.met_at, event.deadline
        case sla.TargetChanged():
            deadline = event.new_deadline
        case sla.SlaWarning() | sla.SlaBreached() if view is None:
            deadline, running = event.deadline, True  # missed its start
        case _:  # a warning or a breach changes no fact; a stale pause or resume neither
            pass
    return ObligationView(
        before.obligation_id, kind, started_at, deadline, running, met_at, since, seen
    )


def _z(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_json(view: ObligationView) -> dict[str, Any]:
    return {
        "kind": view.kind,
        "started_at": _z(view.started_at),
        "deadline": _z(view.deadline),
        "running": view.running,
        "met_at": _z(view.met_at),
        "since": _z(view.since),
        "seen_at": _z(view.seen_at),
    }


def from_json(obligation_id: str, data: dict[str, Any]) -> ObligationView:
    """A stored view. Rows projected before these facts were kept ({kind, started_at,
    deadline, state}) read as running or not by their state; a rebuild restores the rest."""
    kind = one_of(OBLIGATION_KINDS, data.get("kind", "first_response"))
    if kind is None:  # the projection writes the kind from a validated sla event
        raise ValueError(f"{obligation_id}: unknown obligation kind {data.get('kind')!r}")
    return ObligationView(
        obligation_id=obligation_id,
        kind=kind,
        started_at=_instant(data.get("started_at")),
        deadline=_instant(data.get("deadline")),
        running=bool(data.get("running", data.get("state") == "running")),
        met_at=_instant(data.get("met_at")),
        since=_instant(data.get("since")),
        seen_at=_instant(data.get("seen_at")),
    )


def from_row(obligations: dict[str, dict[str, Any]]) -> list[ObligationView]:
    """The `tickets.obligations` column, oldest obligation first."""
    return ordered(from_json(oid, data) for oid, data in obligations.items())
