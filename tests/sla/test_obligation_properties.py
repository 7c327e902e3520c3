"""Properties of `evolve` on random event sequences: invariants of the obligations, the
deadline is exactly where the unpaused open time reaches the target, and a
re-classification equals having had the new class from the start."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tidekit.sla import (
    CustomerMessage,
    OnHold,
    Reclassified,
    Reopened,
    Resolved,
    Resumed,
    StaffReplied,
    Submitted,
    TicketClocks,
    TicketEvent,
    evolve,
    initial,
    load_policy,
    obligations,
)
from tidekit.sla.calendar import spent
from tidekit.sla.names import LEVELS, SEVERITIES

from .conftest import EXAMPLES

POLICY = load_policy()
KINDS = [CustomerMessage, StaffReplied, OnHold, Resumed, Resolved, Reopened]
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

levels = st.sampled_from(LEVELS)
severities = st.sampled_from((*SEVERITIES, None))


@st.composite
def histories(draw: st.DrawFn) -> list[TicketEvent]:
    t = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 5 * 365 * 86_400)))
    out: list[TicketEvent] = [Submitted(t)]
    for kind in draw(st.lists(st.sampled_from(KINDS), max_size=10)):
        t += timedelta(seconds=draw(st.integers(0, 3 * 86_400)))
        out.append(kind(t))
    return out


def replay(level: str, severity: str | None, history: list[TicketEvent]) -> TicketClocks:
    state = initial(POLICY, level, severity)  # type: ignore[arg-type]
    for event in history:
        before = copy.copy(state.obligations)
        new = evolve(state, event)
        assert state.obligations == before  # the old state is never changed
        state = new
    return state


_T0 = datetime(2024, 1, 1, tzinfo=UTC)


@PROFILE
@given(levels, severities, histories())
# Found by hypothesis: a pause and resume at the submission instant leave a zero-length
# stretch that ends where the reply meets the clock.
@example(
    "vip_request",
    "critical",
    [Submitted(at=_T0), OnHold(at=_T0), Resumed(at=_T0), StaffReplied(at=_T0)],
)
def test_invariants(level: str, severity: str | None, history: list[TicketEvent]) -> None:
    EXAMPLES["obligations: invariants on random histories"] += 1
    state = replay(level, severity, history)
    now = history[-1].at
    views = obligations(state, now)
    assert views and views[0].kind == "first_response" and views[0].started_at == history[0].at
    assert all(ob.met_at is not None for ob in state.obligations[:-1])  # one open at most
    for ob, view in zip(state.obligations, views, strict=True):
        assert view.paused_seconds >= 0
        if view.state == "paused":
            assert view.deadline is None and view.warning_at is None
            continue
        if view.deadline is None:  # met while paused
            assert view.state == "met"
            continue
        assert view.warning_at is not None
        assert ob.started_at <= view.warning_at <= view.deadline
        # the open, unpaused time reaches the governing leg's target exactly at the deadline
        found = ob.governing()
        assert found is not None
        deadline, leg = found
        # Unpaused stretches as if never met: only the stretch the reply closed stays open
        # (an earlier, zero-length one can end at the same instant: a pause at submission).
        stretches = list(ob.segments)
        if stretches and ob.met_at is not None and stretches[-1][1] == ob.met_at:
            stretches[-1] = (stretches[-1][0], None)
        assert spent(leg.calendar, stretches, deadline) == leg.duration
        for other in ob.target.legs:  # and no leg is used up earlier
            assert spent(other.calendar, stretches, deadline) <= other.duration
        if ob.running:
            assert view.state == ("breached" if deadline <= now else "running")


@PROFILE
@given(levels, severities, levels, severities, histories())
@example(
    "commercial", "high", "commercial", None, [Submitted(datetime(2026, 11, 30, 10, tzinfo=UTC))]
)
def test_reclassification_equals_the_new_class_from_the_start(
    level: str, severity: str | None, new_level: str, new_severity: str | None, history: list
) -> None:
    """A severity of None (an explicit null) clears the severity: the new class has none."""
    EXAMPLES["obligations: reclassified == new class from the start"] += 1
    state = replay(level, severity, history)
    if state.current is None:
        return
    later = history[-1].at + timedelta(minutes=5)
    moved = evolve(state, Reclassified(later, level=new_level, severity=new_severity))  # type: ignore[arg-type]
    fresh = replay(new_level, new_severity, history)
    assert fresh.current is not None and moved.current is not None
    assert moved.current.deadline() == fresh.current.deadline()
    assert moved.current.started_at == fresh.current.started_at


@PROFILE
@given(levels, severities, st.sampled_from(("level", "severity")), levels, severities, histories())
def test_an_absent_field_keeps_its_value(
    level: Any, severity: Any, given_field: str, new_level: Any, new_severity: Any, history: list
) -> None:
    EXAMPLES["obligations: reclassified keeps the field it does not name"] += 1
    state = replay(level, severity, history)
    later = history[-1].at + timedelta(minutes=5)
    if given_field == "level":
        event, kept = Reclassified(later, level=new_level), (new_level, severity)
    else:
        event, kept = Reclassified(later, severity=new_severity), (level, new_severity)
    moved = evolve(state, event)
    assert (moved.level, moved.severity) == kept
    fresh = replay(*kept, history)
    assert [o.target for o in moved.obligations if o.open] == [
        o.target for o in fresh.obligations if o.open
    ]
