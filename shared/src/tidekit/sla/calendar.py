"""Business calendars and exact calendar arithmetic. Pure: no I/O, no clock reads.

A calendar is a weekly pattern of open intervals in local wall time, an IANA zone and a set
of closed dates (holidays). Durations are real elapsed time inside open hours, so a 23-hour
or 25-hour day across a DST change counts as it really is. Arithmetic never steps through
time: each UTC year of a calendar is compiled once into merged open intervals with running
totals (see timeline.py), and `add`/`elapsed` are a bisection in it, exact to the microsecond.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .timeline import US, Chunk, Interval, build_chunk
from .zones import DAY, EPOCH, MAX_YEAR, MIN_YEAR, year_start

__all__ = [
    "DAY",
    "WEEKDAYS",
    "Calendar",
    "CalendarError",
    "Holidays",
    "Interval",
    "Segment",
    "add",
    "elapsed",
    "instant_reaching",
    "parse_hhmm",
    "spent",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = timedelta(0)
_MAX_CLOSED_YEARS = 50  # a deadline further than this is refused: the calendar is never open


class CalendarError(ValueError):
    pass


@lru_cache(maxsize=2048)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[int]:
    """Ordinals of the public holidays (as the `holidays` package lists them, observed
    days included) of one country, subdivision and year."""
    import holidays as holidays_lib  # slow to import: only when a calendar has a country

    try:
        table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:  # unknown country or subdivision
        raise CalendarError(str(exc)) from None
    return frozenset(day.toordinal() for day in table)


@dataclass(frozen=True)
class Holidays:
    """Closed dates: a country's (and subdivision's) public holidays plus extra closures."""

    country: str | None = None
    subdivision: str | None = None
    extra: frozenset[date] = frozenset()
    _extra_ordinals: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_extra_ordinals", frozenset(d.toordinal() for d in self.extra))
        if self.subdivision is not None and self.country is None:
            raise CalendarError("holidays: a subdivision needs a country")
        if self.country is not None:
            _public_holidays(self.country, self.subdivision, 2000)  # fail now, not later

    def closed_ordinal(self, ordinal: int) -> bool:
        if ordinal in self._extra_ordinals:
            return True
        if self.country is None:
            return False
        year = date.fromordinal(ordinal).year
        return ordinal in _public_holidays(self.country, self.subdivision, year)

    def closed(self, day: date) -> bool:
        return self.closed_ordinal(day.toordinal())


@dataclass(frozen=True)
class Calendar:
    """Weekly open intervals (Monday first, seconds after local midnight), zone, holidays."""

    name: str
    zone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: Holidays = field(default_factory=Holidays)
    _chunks: dict[int, Chunk] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError(f"{self.name}: a week has 7 days")
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
    def always_open(self) -> bool:
        """Open every second of every day (24x7 in any zone: no holidays)."""
        return (
            all(day == ((0, DAY),) for day in self.week)
            and self.holidays.country is None
            and not self.holidays.extra
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def chunk(self, year: int) -> Chunk:
        """The compiled open intervals of one UTC year (built once, then cached)."""
        found = self._chunks.get(year)
        if found is None:
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise CalendarError(f"{self.name}: year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
            found = build_chunk(self.week, self.zone, self.holidays.closed_ordinal, year)
            self._chunks[year] = found
        return found

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open time of UTC date `day`, as UTC instants (for displays and tests)."""
        lo = _to_us(datetime(day.year, day.month, day.day, tzinfo=UTC))
        hi = lo + DAY * US
        ch = self.chunk(day.year)
        return tuple(
            (_from_us(max(a, lo)), _from_us(min(b, hi)))
            for a, b in zip(ch.starts, ch.ends, strict=True)
            if a < hi and b > lo
        )

    # --- integer arithmetic (UTC microseconds since the epoch) ----------------------
    def add_us(self, t: int, duration: int) -> int:
        if duration <= 0:
            return t
        year = _year_of(t)
        ch = self.chunk(year)
        goal = ch.position(t) + duration
        for _ in range(_MAX_CLOSED_YEARS):
            if goal <= ch.total:
                return ch.reach(goal)
            goal -= ch.total
            year += 1
            ch = self.chunk(year)
        raise CalendarError(f"{self.name}: not enough open time within {_MAX_CLOSED_YEARS} years")

    def elapsed_us(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        ya, yb = _year_of(a), _year_of(b)
        if ya == yb:
            ch = self.chunk(ya)
            return ch.position(b) - ch.position(a)
        first = self.chunk(ya)
        total = first.total - first.position(a)
        for year in range(ya + 1, yb):
            total += self.chunk(year).total
        return total + self.chunk(yb).position(b)


def _to_us(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise CalendarError("instants must be timezone-aware")
    delta = instant - EPOCH
    return (delta.days * DAY + delta.seconds) * US + delta.microseconds


def _from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


_YEAR_STARTS = [year_start(y) * US for y in range(MIN_YEAR, MAX_YEAR + 2)]


def _year_of(us: int) -> int:
    return MIN_YEAR - 1 + bisect_right(_YEAR_STARTS, us)


def _td_us(duration: timedelta) -> int:
    return (duration.days * DAY + duration.seconds) * US + duration.microseconds


def add(cal: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of open time has elapsed since `start`
    (`start` itself for a zero or negative duration). Returned in UTC."""
    return _from_us(cal.add_us(_to_us(start), _td_us(duration)))


def elapsed(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Open time between `start` and `end` (zero when end <= start)."""
    return timedelta(microseconds=cal.elapsed_us(_to_us(start), _to_us(end)))


Segment = tuple[datetime, datetime | None]  # a running stretch of a clock; None: still running


def instant_reaching(
    cal: Calendar, segments: Sequence[Segment], amount: timedelta
) -> datetime | None:
    """When the open time inside `segments` reaches `amount`; None if the segments end
    (the clock is paused) before that. A zero amount is reached at the first start."""
    need = _td_us(amount)
    for start, end in segments:
        a = _to_us(start)
        if end is None:
            return _from_us(cal.add_us(a, need))
        got = cal.elapsed_us(a, _to_us(end))
        if need <= got:
            return _from_us(cal.add_us(a, need))
        need -= got
    return None


def spent(cal: Calendar, segments: Iterable[Segment], now: datetime) -> timedelta:
    """Open time inside `segments` up to `now`."""
    t = _to_us(now)
    total = 0
    for start, end in segments:
        stop = t if end is None else min(_to_us(end), t)
        total += cal.elapsed_us(_to_us(start), stop)
    return timedelta(microseconds=total)


def parse_hhmm(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise CalendarError(f"{text!r} is not HH:MM")
    value = int(hours) * 3600 + int(minutes) * 60
    if value > DAY or int(minutes) >= 60:
        raise CalendarError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return value
