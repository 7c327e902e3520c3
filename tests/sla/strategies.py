"""Hypothesis strategies: random calendars, zones with DST, holidays, starts, pauses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import assume
from hypothesis import strategies as st

from tidekit.sla.calendar import Calendar, Holidays

from .reference import NaiveCalendar

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "America/Santiago",
]
COUNTRIES = [None, "US", "DE", "GB", "AU", "BR", "JP"]


@dataclass(frozen=True)
class CalendarCase:
    fast: Calendar
    naive: NaiveCalendar
    description: str

    @property
    def zone(self) -> str:
        return self.fast.zone


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    k = draw(st.integers(0, 2))
    points = sorted(draw(st.lists(st.integers(0, 96), min_size=2 * k, max_size=2 * k, unique=True)))
    return tuple((points[i] * 900, points[i + 1] * 900) for i in range(0, len(points), 2))


@st.composite
def calendars(draw: st.DrawFn) -> CalendarCase:
    week = tuple(draw(day_intervals()) for _ in range(7))
    weekly_open = sum(b - a for day in week for a, b in day)
    assume(weekly_open >= 20 * 3600)  # keeps the minute-stepping reference fast
    zone = draw(st.sampled_from(ZONES))
    country = draw(st.sampled_from(COUNTRIES))
    extra = frozenset(draw(st.lists(st.dates(date(2024, 1, 1), date(2029, 12, 31)), max_size=8)))
    closed = set(extra)
    if country:
        closed |= set(holidays.country_holidays(country, years=range(2023, 2031)).keys())
    fast = Calendar("random", zone, week, Holidays(country, None, extra))
    return CalendarCase(fast, NaiveCalendar(zone, week, closed), f"{zone} {country} {week}")


@cache
def dst_changes(zone: str, year: int) -> tuple[date, ...]:
    """The local dates on which `zone` changes its UTC offset in `year`."""
    tz = ZoneInfo(zone)
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    return tuple(
        d
        for d in days[1:]
        if datetime.combine(d, time(12), tz).utcoffset()
        != datetime.combine(d - timedelta(days=1), time(12), tz).utcoffset()
    )


@st.composite
def starts(draw: st.DrawFn, zone: str = "UTC") -> datetime:
    """Instants across 2024-2029, often in the days before a DST change, minute-aligned."""
    year = draw(st.integers(2024, 2029))
    changes = dst_changes(zone, year)
    if changes and draw(st.booleans()):
        change = draw(st.sampled_from(changes))
        base = datetime.combine(change - timedelta(days=draw(st.integers(0, 1))), time(0), UTC)
    else:
        base = draw(st.datetimes(datetime(2024, 1, 1), datetime(2029, 12, 1))).replace(
            tzinfo=UTC, second=0, microsecond=0
        )
    return base.replace(hour=0, minute=0) + timedelta(minutes=draw(st.integers(0, 1439)))


durations = st.integers(0, 50 * 60)  # minutes of open time


@st.composite
def segments(draw: st.DrawFn, start: datetime) -> tuple[tuple[datetime, datetime | None], ...]:
    """A clock's running stretches from `start`: some closed by pauses, the last maybe open."""
    cuts = sorted(draw(st.lists(st.integers(1, 10 * 1440), max_size=6, unique=True)))
    if len(cuts) % 2 == 1 and draw(st.booleans()):
        cuts = cuts[:-1]
    points = [start] + [start + timedelta(minutes=c) for c in cuts]
    out: list[tuple[datetime, datetime | None]] = []
    for i in range(0, len(points), 2):
        end = points[i + 1] if i + 1 < len(points) else None
        out.append((points[i], end))
    return tuple(out)


def calendar_and_start() -> st.SearchStrategy[tuple[CalendarCase, datetime]]:
    return calendars().flatmap(lambda c: st.tuples(st.just(c), starts(c.zone)))
