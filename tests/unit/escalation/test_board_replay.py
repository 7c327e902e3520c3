"""The at-risk forecast on the scripted replay of desk days (tests/bench/
board_forecast_replay.py), whose figures docs/board.md quotes."""

from __future__ import annotations

from tests.bench.board_forecast_replay import replay, replay_days


def test_the_replay_is_deterministic() -> None:
    first, again = replay(20), replay(20)
    assert [(t.tid, t.replied, t.first_flag) for t in first.tickets] == [
        (t.tid, t.replied, t.first_flag) for t in again.tickets
    ]


def test_the_forecast_flags_most_breaches_half_an_hour_ahead_over_ten_days() -> None:
    days = replay_days(20, 10)
    assert days.breached > 100  # the script does overload the desk
    assert days.recall >= 0.9, (days.caught_early, days.breached)
    assert days.precision >= 0.5, (days.flagged_and_breached, days.flagged)
    # a flag never comes for a ticket already answered or already past its deadline
    assert all(
        t.first_flag is None or (t.first_flag < t.deadline and t.first_flag <= t.replied)  # type: ignore[operator]
        for t in days.tickets
    )
