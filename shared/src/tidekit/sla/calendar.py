"""Business calendars and exact calendar arithmetic. Pure: no I/O, no clock reads.

A calendar is a weekly pattern of open intervals in local wall time, an IANA zone and a
set of closed dates (holidays). Durations are real elapsed time inside open hours, so a
23-hour or 25-hour day across a DST change counts as it really is. Arithmetic walks whole
open intervals day by day (cached per calendar and date), never minute by minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86_400
ZERO = timedelta(0)
_MAX_DAYS = 366 * 20  # a calendar open at least once a year answers well within this


class CalendarError(ValueError):
    pass


Interval = tuple[int, int]  # seconds after local midnight, end up to 86400 ("24:00")


@dataclass(frozen=True)
class Holidays:
    """Closed dates: a country's (and subdivision's) public holidays plus extra closures."""

    country: str | None = None
    subdivision: str | None = None
    extra: frozenset[date] = frozenset()

    def closed(self, day: date) -> bool:
        return day in self.extra or (
            self.country is not None
            and day in _public_holidays(self.country, self.subdivision, day.year)
        )


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:  # unknown country or subdivision
        raise CalendarError(str(exc)) from None
    return frozenset(table.keys())


@dataclass(frozen=True)
class Calendar:
    name: str
    zone: str
    week: tuple[tuple[Interval, ...], ...]  # Monday first, 7 entries
    holidays: Holidays = field(default_factory=Holidays)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("a week has 7 days")
        for day, intervals in zip(WEEKDAYS, self.week, strict=True):
            last_end = -1
            for start, end in intervals:
                if not 0 <= start < end <= DAY:
                    raise CalendarError(f"{self.name}: bad interval on {day}: {start}-{end}")
                if start < last_end:
                    raise CalendarError(f"{self.name}: overlapping intervals on {day}")
                last_end = end
        if not any(self.week):
            raise CalendarError(f"{self.name}: the calendar is never open")
        try:
            ZoneInfo(self.zone)
        except (KeyError, ValueError) as exc:
            raise CalendarError(f"{self.name}: unknown time zone {self.zone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of local date `day`, as UTC instants, in order."""
        return _day_intervals(self, day)

    def days_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every open interval that ends after `instant`, in order."""
        day = instant.astimezone(self.tz).date()
        for offset in range(_MAX_DAYS):
            for start, end in _day_intervals(self, day + timedelta(days=offset)):
                if end > instant:
                    yield start, end
        raise CalendarError(f"{self.name}: no open time within {_MAX_DAYS} days")


def _wall_to_utc(tz: ZoneInfo, day: date, seconds: int) -> datetime:
    # "24:00" is the next local midnight. Wall times in a DST gap map forward (fold=0).
    if seconds == DAY:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(
            day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), tzinfo=tz
        )
    return local.astimezone(UTC)


@lru_cache(maxsize=65_536)
def _day_intervals(cal: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if cal.holidays.closed(day):
        return ()
    tz = cal.tz
    out: list[tuple[datetime, datetime]] = []
    for start, end in cal.week[day.weekday()]:
        a, b = _wall_to_utc(tz, day, start), _wall_to_utc(tz, day, end)
        if out and a < out[-1][1]:
            a = out[-1][1]  # DST overlap folded two wall intervals onto each other
        if b > a:
            out.append((a, b))
    return tuple(out)


def _check(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError("instants must be timezone-aware")
    return instant.astimezone(UTC)


def add(cal: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of open time has elapsed since `start`."""
    start = _check(start)
    if duration <= ZERO:
        return start
    remaining = duration
    for a, b in cal.days_from(start):
        a = max(a, start)
        if remaining <= b - a:
            return a + remaining
        remaining -= b - a
    raise AssertionError("unreachable")  # days_from raises first


def elapsed(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Open time between `start` and `end` (zero when end <= start)."""
    start, end = _check(start), _check(end)
    total = ZERO
    if end <= start:
        return total
    for a, b in cal.days_from(start):
        if a >= end:
            break
        total += min(b, end) - max(a, start)
    return total


Segment = tuple[datetime, datetime | None]  # a running stretch of a clock; None: still running


def instant_reaching(
    cal: Calendar, segments: Sequence[Segment], amount: timedelta
) -> datetime | None:
    """When the open time inside `segments` reaches `amount`; None if paused before that."""
    for start, end in segments:
        if end is None:
            return add(cal, start, amount)
        spent = elapsed(cal, start, end)
        if amount <= spent:
            return add(cal, start, amount)
        amount -= spent
    return None


def spent(cal: Calendar, segments: Iterable[Segment], now: datetime) -> timedelta:
    return sum(
        (elapsed(cal, s, e if e is not None and e < now else now) for s, e in segments), ZERO
    )


def parse_hhmm(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise CalendarError(f"{text!r} is not HH:MM")
    value = int(hours) * 3600 + int(minutes) * 60
    if value > DAY or int(minutes) >= 60:
        raise CalendarError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return value
