"""Intake's obligation view as a pure fold of the sla-timer's events: the states the
sla-timer's own view shows (tidekit.sla.queries), hand-made cases and random scripts run
through the sla-timer's own code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

import tidekit.sla as sla
from tidekit.events import sla as ev
from tidekit.sla.names import SEVERITIES, Severity
from tidemark_intake.tickets import obligations
from tidemark_intake.tickets.obligations import ObligationView, evolve

from .sla_timer_copy import SlaTimerCopy

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
M = timedelta(minutes=1)
OB = {"tid": "TID-7", "obligation_id": "TID-7/1"}


def started(deadline: datetime = T0 + 60 * M) -> ev.ClockStarted:
    return ev.ClockStarted(
        **OB,
        kind="first_response",
        level="commercial",
        severity="high",
        started_at=T0,
        deadline=deadline,
        warning_at=T0 + 45 * M,
        target_seconds=3600,
        calendar="24x7",
        policy_version="2026.1",
    )


def fold(*events: obligations.ObligationEvent) -> ObligationView:
    view = reduce(evolve, events, None)
    assert view is not None
    return view


def breach(at: datetime, deadline: datetime = T0 + 60 * M) -> ev.SlaBreached:
    return ev.SlaBreached(
        **OB,
        kind="first_response",
        level="commercial",
        severity="high",
        deadline=deadline,
        emitted_at=at,
        lateness_seconds=(at - deadline).total_seconds(),
        policy_version="2026.1",
    )


def test_a_resume_runs_again_with_the_new_deadline() -> None:
    paused = fold(started(), ev.ClockPaused(**OB, paused_at=T0 + 10 * M, elapsed_seconds=600))
    assert (paused.state(T0 + 20 * M), paused.deadline) == ("paused", None)
    resumed = evolve(
        paused,
        ev.ClockResumed(**OB, resumed_at=T0 + 40 * M, deadline=T0 + 90 * M, warning_at=T0 + 75 * M),
    )
    assert (resumed.state(T0 + 41 * M), resumed.deadline) == ("running", T0 + 90 * M)
    assert resumed.state(T0 + 90 * M) == "breached"  # at the deadline instant, by time


def test_a_reply_after_the_deadline_stays_breached_and_one_in_time_is_met() -> None:
    late = ev.ClockMet(**OB, met_at=T0 + 2 * 60 * M, deadline=T0 + 60 * M, elapsed_seconds=7200)
    assert fold(started(), breach(T0 + 60 * M), late).state(T0 + 3 * 60 * M) == "breached"
    on_time = ev.ClockMet(**OB, met_at=T0 + 60 * M, deadline=T0 + 60 * M, elapsed_seconds=3600)
    view = fold(started(), on_time)
    assert (view.state(T0 + 5 * 60 * M), view.met_at) == ("met", T0 + 60 * M)


def test_a_pause_after_the_target_was_used_up_keeps_the_deadline_and_the_breach() -> None:
    view = fold(
        started(),
        breach(T0 + 61 * M),
        ev.ClockPaused(**OB, paused_at=T0 + 2 * 60 * M, elapsed_seconds=7200),
    )
    assert (view.state(T0 + 2 * 60 * M), view.deadline) == ("breached", T0 + 60 * M)


def test_a_later_target_after_the_breach_runs_again_as_in_the_sla_timer() -> None:
    later = ev.TargetChanged(
        **OB,
        level="commercial",
        severity="low",
        old_deadline=T0 + 60 * M,
        new_deadline=T0 + 24 * 60 * M,
        old_target_seconds=3600,
        new_target_seconds=86400,
        policy_version="2026.1",
        changed_at=T0 + 2 * 60 * M,
    )
    view = fold(started(), breach(T0 + 60 * M), later)
    assert (view.state(T0 + 2 * 60 * M), view.deadline) == ("running", T0 + 24 * 60 * M)


def test_the_breach_event_speaks_for_a_clock_that_lags_behind() -> None:
    view = fold(started(), breach(T0 + 60 * M))
    assert view.state(T0 + 30 * M) == "breached"  # intake's clock behind the sla-timer's


def test_a_late_pause_does_not_undo_a_later_resume() -> None:
    resumed = ev.ClockResumed(
        **OB, resumed_at=T0 + 40 * M, deadline=T0 + 90 * M, warning_at=T0 + 75 * M
    )
    stale_pause = ev.ClockPaused(**OB, paused_at=T0 + 10 * M, elapsed_seconds=600)
    view = fold(started(), resumed, stale_pause)
    assert (view.state(T0 + 41 * M), view.deadline) == ("running", T0 + 90 * M)


def test_an_obligation_met_before_it_ever_ran_is_shown_met() -> None:
    met = ev.ClockMet(
        tid="TID-7", obligation_id="TID-7/3", met_at=T0, deadline=None, elapsed_seconds=0
    )
    view = fold(met)
    assert (view.kind, view.state(T0), view.started_at) == ("next_response", "met", None)


def test_views_survive_their_json_and_old_rows_read_by_their_state() -> None:
    view = fold(started(), ev.ClockPaused(**OB, paused_at=T0 + 10 * M, elapsed_seconds=600))
    assert obligations.from_json(view.obligation_id, obligations.to_json(view)) == view
    old = {"kind": "first_response", "started_at": "2026-11-24T09:00:00Z", "state": "running"}
    (read,) = obligations.from_row({"TID-7/1": {**old, "deadline": "2026-11-24T10:00:00Z"}})
    assert (read.running, read.deadline, read.state(T0)) == (True, T0 + 60 * M, "running")


def test_twelve_obligations_are_ordered_by_number_not_as_text() -> None:
    row = {f"TID-7/{n}": {"kind": "next_response", "running": False} for n in range(12, 0, -1)}
    assert [v.number for v in obligations.from_row(row)] == list(range(1, 13))
    assert sorted(row)[:3] == ["TID-7/1", "TID-7/10", "TID-7/11"]  # what text order gave


# --- random scripts through the sla-timer's own code ------------------------------------
STEPS = st.sampled_from(["reply", "message", "hold", "resume", "resolve", "reopen", "reclassify"])


def engine_event(kind: str, at: datetime, severity: Severity) -> sla.TicketEvent:
    match kind:
        case "reply":
            return sla.StaffReplied(at)
        case "message":
            return sla.CustomerMessage(at)
        case "hold":
            return sla.OnHold(at)
        case "resume":
            return sla.Resumed(at)
        case "resolve":
            return sla.Resolved(at)
        case "reopen":
            return sla.Reopened(at)
    return sla.Reclassified(at, severity=severity)


@settings(max_examples=150, deadline=None)
@given(
    first=st.sampled_from([None, *SEVERITIES]),
    script=st.lists(
        st.tuples(st.integers(0, 40 * 60), STEPS, st.sampled_from(SEVERITIES)), max_size=14
    ),
)
def test_every_state_agrees_with_the_sla_timers_view(
    first: Severity | None, script: list[tuple[int, str, Severity]]
) -> None:
    timer = SlaTimerCopy.submitted("TID-7", T0, "commercial", first)
    views: dict[str, ObligationView] = {}

    def agree(now: datetime) -> None:
        for event in timer.published[len(folded) :]:
            assert isinstance(event, obligations.OBLIGATION_EVENTS)
            views[event.obligation_id] = evolve(views.get(event.obligation_id), event)
            folded.append(event)
        expected = timer.view(now)
        # One that began while on hold is announced (sla.clock_started) when it first runs;
        # until then the sla-timer has published nothing about it, and shows it paused.
        unannounced = {oid: v.state for oid, v in expected.items() if oid not in views}
        assert set(unannounced.values()) <= {"paused"}
        shown = [oid for oid in expected if oid in views]
        assert [v.obligation_id for v in obligations.ordered(views.values())] == shown
        for oid in shown:
            want, got = expected[oid], views[oid]
            # ... and one met before it ever ran is first heard of by its sla.clock_met,
            # which does not say when it began
            ever_started = any(
                isinstance(e, ev.ClockStarted) and e.obligation_id == oid for e in folded
            )
            assert got.started_at == (want.started_at if ever_started else None), oid
            assert (got.kind, got.deadline, got.met_at, got.state(now)) == (
                want.kind,
                want.deadline,
                want.met_at,
                want.state,
            ), oid

    folded: list[object] = []
    at = T0
    agree(at)
    for gap_minutes, kind, severity in script:
        at += gap_minutes * M
        agree(at)  # just before the step: time alone may have breached a clock
        timer.apply(engine_event(kind, at, severity))
        agree(at)
