"""The fast engine agrees with the naive minute-stepping reference, and algebraic laws."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidekit.sla.calendar import Calendar, add, elapsed, instant_reaching

from .conftest import EXAMPLES
from .reference import NaiveCalendar
from .strategies import (
    CalendarCase,
    calendar_and_start,
    calendars,
    day_intervals,
    dst_changes,
    durations,
    segments,
    starts,
)

PROFILE = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROFILE
@given(calendars(), starts(), durations)
def test_add_agrees_with_the_naive_reference(
    case: CalendarCase, start: datetime, minutes: int
) -> None:
    EXAMPLES["add vs naive reference"] += 1
    expected = case.naive.add(start, minutes)
    assert add(case.fast, start, timedelta(minutes=minutes)) == expected, case.description
    tz = case.naive.tz
    if start.astimezone(tz).utcoffset() != expected.astimezone(tz).utcoffset():
        EXAMPLES["add vs naive reference, across a DST change"] += 1
    if any(start.date() <= d <= expected.date() for d in case.naive.closed):
        EXAMPLES["add vs naive reference, across a closed date"] += 1


@PROFILE
@given(calendar_and_start(), st.integers(0, 8 * 1440))
def test_elapsed_agrees_with_the_naive_reference(
    case_and_start: tuple[CalendarCase, datetime], span: int
) -> None:
    case, start = case_and_start
    EXAMPLES["elapsed vs naive reference"] += 1
    end = start + timedelta(minutes=span)
    tz = case.naive.tz
    if start.astimezone(tz).utcoffset() != end.astimezone(tz).utcoffset():
        EXAMPLES["elapsed vs naive reference, across a DST change"] += 1
    assert elapsed(case.fast, start, end) == timedelta(minutes=case.naive.elapsed(start, end))


@PROFILE
@given(calendars(), starts().flatmap(lambda s: st.tuples(st.just(s), segments(s))), durations)
def test_pauses_agree_with_the_naive_reference(
    case: CalendarCase, start_and_segments: tuple[datetime, tuple], minutes: int
) -> None:
    EXAMPLES["paused clocks vs naive reference"] += 1
    _, segs = start_and_segments
    expected = case.naive.reaching(segs, minutes)
    assert instant_reaching(case.fast, segs, timedelta(minutes=minutes)) == expected


LAWS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
any_duration = st.integers(0, 400 * 3600).map(lambda s: timedelta(seconds=s))


@LAWS
@given(calendars(), starts(), any_duration)
def test_elapsed_inverts_add(case: CalendarCase, start: datetime, d: timedelta) -> None:
    EXAMPLES["elapsed(add(d)) == d"] += 1
    assert elapsed(case.fast, start, add(case.fast, start, d)) == d


@LAWS
@given(calendars(), starts(), any_duration, any_duration)
def test_add_is_monotonic_and_composes(
    case: CalendarCase, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    EXAMPLES["monotonic and two-step add"] += 1
    once = add(case.fast, start, d1 + d2)
    assert add(case.fast, start, min(d1, d2)) <= add(case.fast, start, max(d1, d2))
    assert add(case.fast, add(case.fast, start, d1), d2) == once


DST_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Santiago",
]


@st.composite
def across_a_dst_change(draw: st.DrawFn) -> tuple[CalendarCase, datetime, int]:
    """A calendar open on the change's weekday, a start within a day before the change and
    a duration that carries past it: every example straddles a DST change."""
    zone = draw(st.sampled_from(DST_ZONES))
    changes = dst_changes(zone, draw(st.integers(2024, 2029)))
    change = draw(st.sampled_from(changes))
    week = tuple(draw(day_intervals()) for _ in range(7))
    wall = list(week)
    wall[change.weekday()] = draw(
        st.sampled_from([((0, 86400),), ((3600, 14400),), ((0, 10800), (12600, 86400))])
    )
    fast = Calendar("dst", zone, tuple(wall))
    naive = NaiveCalendar(zone, wall, set())
    start = datetime.combine(change - timedelta(days=1), time(0), UTC) + timedelta(
        minutes=draw(st.integers(0, 1439))
    )
    return (
        CalendarCase(fast, naive, f"{zone} {change} {wall}"),
        start,
        draw(st.integers(60, 60 * 60)),
    )


@PROFILE
@given(across_a_dst_change())
def test_add_across_dst_changes_agrees_with_the_reference(
    case: tuple[CalendarCase, datetime, int],
) -> None:
    calendar, start, minutes = case
    expected = calendar.naive.add(start, minutes)
    tz = calendar.naive.tz
    if start.astimezone(tz).utcoffset() != expected.astimezone(tz).utcoffset():
        EXAMPLES["add vs naive reference, across a DST change"] += 1
    assert add(calendar.fast, start, timedelta(minutes=minutes)) == expected, calendar.description
    span = elapsed(calendar.fast, start, expected)
    assert span == timedelta(minutes=minutes)
