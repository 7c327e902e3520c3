"""The board's pure parts: the countdown's state from the sla-timer's events, the tier-2
hours indicator, and the at-risk forecast against a scripted queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidekit.events.sla import ClockMet, ClockPaused, ClockResumed, ClockStarted, TargetChanged
from tidemark_escalation.board.clock_state import countdown_state, next_clock
from tidemark_escalation.board.forecast import Waiting, at_risk, serving_rate
from tidemark_escalation.board.hours import HoursNow, tier2_hours

from .factories import EVENING, IN_TIER2, POLICY, SATURDAY, breached, warned

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def started(n: int = 1, kind: str = "first_response") -> ClockStarted:
    return ClockStarted(
        tid="TID-1", obligation_id=f"TID-1/{n}", kind=kind, level="commercial",
        severity="medium", started_at=T0, deadline=T0 + 4 * HOUR, warning_at=T0 + 3 * HOUR,
        target_seconds=4 * 3600, calendar="24x7", policy_version="2026.1",
    )  # fmt: skip


def test_the_countdown_runs_warns_breaches_and_pauses_with_the_clock() -> None:
    clock = next_clock(None, started())
    assert countdown_state(clock, T0) == "running"
    assert countdown_state(clock, T0 + 3 * HOUR) == "warning"  # past 75 % of the target
    assert countdown_state(clock, T0 + 4 * HOUR) == "breached"
    paused = next_clock(clock, ClockPaused(tid="TID-1", obligation_id="TID-1/1",
                                           paused_at=T0 + HOUR, elapsed_seconds=3600))  # fmt: skip
    assert countdown_state(paused, T0 + 5 * HOUR) == "paused"
    resumed = next_clock(paused, ClockResumed(
        tid="TID-1", obligation_id="TID-1/1", resumed_at=T0 + 5 * HOUR,
        deadline=T0 + 8 * HOUR, warning_at=T0 + 7 * HOUR,
    ))  # fmt: skip
    assert countdown_state(resumed, T0 + 6 * HOUR) == "running"
    met = next_clock(resumed, ClockMet(tid="TID-1", obligation_id="TID-1/1",
                                       met_at=T0 + 6 * HOUR, deadline=T0 + 8 * HOUR,
                                       elapsed_seconds=7200))  # fmt: skip
    assert countdown_state(met, T0 + 9 * HOUR) == "none"


def test_the_sla_timers_verdicts_colour_the_countdown_even_before_the_times() -> None:
    clock = next_clock(None, started())
    assert countdown_state(next_clock(clock, warned()), T0) == "warning"
    assert countdown_state(next_clock(clock, breached()), T0) == "breached"


def test_an_older_obligations_events_do_not_touch_the_newer_one() -> None:
    clock = next_clock(None, started(2, "next_response"))
    assert next_clock(clock, breached(n=1)) == clock


def test_a_target_change_moves_deadline_and_warning_together() -> None:
    clock = next_clock(None, started())
    changed = next_clock(clock, TargetChanged(
        tid="TID-1", obligation_id="TID-1/1", level="commercial", severity="high",
        old_deadline=T0 + 4 * HOUR, new_deadline=T0 + 2 * HOUR, old_target_seconds=14400,
        new_target_seconds=7200, policy_version="2026.1", changed_at=T0,
    ))  # fmt: skip
    assert changed is not None
    assert (changed.deadline, changed.warning_at) == (T0 + 2 * HOUR, T0 + HOUR)


def test_tier2_hours_say_open_or_closed_and_the_next_change() -> None:
    tier2 = POLICY.calendars["tier2"]  # Monday to Friday 06:00-16:00 UTC
    assert tier2_hours(tier2, IN_TIER2) == HoursNow(True, IN_TIER2.replace(hour=16))
    assert tier2_hours(tier2, EVENING) == HoursNow(False, IN_TIER2.replace(day=24, hour=6))
    assert tier2_hours(tier2, SATURDAY) == HoursNow(False, SATURDAY.replace(day=30, hour=6))
    assert tier2_hours(POLICY.calendars["24x7"], IN_TIER2) == HoursNow(True, None)


# --- the at-risk forecast against a scripted queue -------------------------------------
NOW = T0 + 8 * HOUR
MIN = timedelta(minutes=1)


def test_the_serving_rate_counts_the_first_replies_of_the_window() -> None:
    replies = [NOW - 10 * MIN * k for k in range(12)]  # one every 10 minutes, for 2 hours
    assert serving_rate(replies, NOW, HOUR) == 6 / 3600  # 6 in the last hour (NOW-1h excluded)


def test_a_ticket_is_at_risk_when_the_queue_reaches_it_after_its_deadline() -> None:
    rate = 6 / 3600  # one ticket every 10 minutes
    queue = [
        Waiting("TID-1", NOW + 15 * MIN),  # reached at +10 min: fine
        Waiting("TID-2", NOW + 15 * MIN),  # reached at +20 min: breaches first
        Waiting("TID-3", None),  # paused or answered: not in line for a reply
        Waiting("TID-4", NOW - MIN),  # breached already: not "at risk", but in line
        Waiting("TID-5", NOW + 2 * HOUR),  # reached at +40 min: fine
        Waiting("TID-6", NOW + 45 * MIN),  # reached at +50 min
    ]
    flagged = at_risk(queue, rate, NOW, HOUR)
    assert [(f.tid, f.position, f.reached_at) for f in flagged] == [
        ("TID-2", 1, NOW + 20 * MIN),
        ("TID-6", 4, NOW + 50 * MIN),
    ]
    assert flagged[0].short_by == 5 * MIN


def test_a_queue_nobody_serves_puts_every_deadline_within_the_window_at_risk() -> None:
    queue = [Waiting("TID-1", NOW + 30 * MIN), Waiting("TID-2", NOW + 3 * HOUR)]
    flagged = at_risk(queue, serving_rate([], NOW, HOUR), NOW, HOUR)
    assert [(f.tid, f.reached_at) for f in flagged] == [("TID-1", None)]
