"""A deliberately naive reference for calendar arithmetic: one minute at a time.

An instant is open when the wall clock of the calendar's zone shows a time inside one of
that weekday's intervals and the local date is not closed. Inputs must be minute-aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


class NaiveCalendar:
    def __init__(
        self, zone: str, week: Sequence[Sequence[tuple[int, int]]], closed: set[date]
    ) -> None:
        self.tz = ZoneInfo(zone)
        self.week = week
        self.closed = closed

    def is_open(self, t: datetime) -> bool:
        local = t.astimezone(self.tz)
        if local.date() in self.closed:
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(a <= second < b for a, b in self.week[local.weekday()])

    def add(self, start: datetime, minutes: int, limit_days: int = 400) -> datetime:
        t, count = start.astimezone(UTC), 0
        if minutes == 0:
            return t
        stop = t + timedelta(days=limit_days)
        while t < stop:
            if self.is_open(t):
                count += 1
                if count == minutes:
                    return t + MINUTE
            t += MINUTE
        raise AssertionError("reference found no deadline within the limit")

    def elapsed(self, start: datetime, end: datetime) -> int:
        t, count = start, 0
        while t < end:
            count += self.is_open(t)
            t += MINUTE
        return count

    def reaching(
        self,
        segments: Sequence[tuple[datetime, datetime | None]],
        minutes: int,
        limit_days: int = 400,
    ) -> datetime | None:
        """When the open minutes inside the segments reach `minutes` (None: never)."""
        count = 0
        if minutes == 0:
            return segments[0][0] if segments else None
        for start, end in segments:
            t = start
            stop = end if end is not None else start + timedelta(days=limit_days)
            while t < stop:
                if self.is_open(t):
                    count += 1
                    if count == minutes:
                        return t + MINUTE
                t += MINUTE
        return None
