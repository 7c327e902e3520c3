"""Differential test: the engine agrees with `businesstimedelta` to the second, on the
calendars that library can express (one daily working-hours window on chosen weekdays, plus
a country's holidays, in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import businesstimedelta as btd
import holidays
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidekit.sla import Calendar, Holidays, add, elapsed

from .conftest import EXAMPLES

COUNTRIES = [None, "US", "DE", "GB", "FR"]


@st.composite
def both(draw: st.DrawFn) -> tuple[Calendar, Any, str]:
    """The same calendar for both libraries."""
    start_h = draw(st.integers(0, 22))
    end_h = draw(st.integers(start_h + 1, 23))  # btd needs end < 24:00
    start_m, end_m = draw(st.sampled_from([0, 15, 30])), draw(st.sampled_from([0, 30, 45]))
    days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)))
    country = draw(st.sampled_from(COUNTRIES))
    a, b = start_h * 3600 + start_m * 60, end_h * 3600 + end_m * 60
    week = tuple(((a, b),) if d in days else () for d in range(7))
    ours = Calendar("btd", "UTC", week, Holidays(country))
    rules: list[Any] = [
        btd.WorkDayRule(
            start_time=time(start_h, start_m), end_time=time(end_h, end_m), working_days=days
        )
    ]
    if country:
        rules.append(btd.HolidayRule(holidays.country_holidays(country)))
    return ours, btd.Rules(rules), f"{days} {start_h}:{start_m}-{end_h}:{end_m} {country}"


instants = st.datetimes(datetime(2024, 1, 1), datetime(2029, 12, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
durations = st.integers(1, 200 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(both(), instants, durations)
def test_add_and_elapsed_agree_with_businesstimedelta(
    cals: tuple[Calendar, Any, str], start: datetime, duration: timedelta
) -> None:
    ours, theirs, description = cals
    EXAMPLES["add/elapsed vs businesstimedelta"] += 1
    hours, seconds = divmod(int(duration.total_seconds()), 3600)
    expected = pytz.utc.localize(start.replace(tzinfo=None)) + btd.BusinessTimeDelta(
        theirs, hours=hours, seconds=seconds
    )
    got = add(ours, start, duration)
    assert got == expected, description
    end = start + duration
    assert (
        elapsed(ours, start, end)
        == theirs.difference(
            pytz.utc.localize(start.replace(tzinfo=None)),
            pytz.utc.localize(end.replace(tzinfo=None)),
        ).timedelta
    ), description
