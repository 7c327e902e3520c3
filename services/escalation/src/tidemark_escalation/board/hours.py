"""The tier-2 hours indicator: open or closed now, and when that changes. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tidekit.sla import Calendar

from ..domain import in_hours, next_opening

_LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class HoursNow:
    open: bool
    next_change: datetime | None  # None: open around the clock (nothing changes)


def tier2_hours(calendar: Calendar, now: datetime) -> HoursNow:
    if not in_hours(calendar, now):
        return HoursNow(False, next_opening(calendar, now))
    return HoursNow(True, _closing(calendar, now))


def _closing(calendar: Calendar, now: datetime) -> datetime | None:
    """The end of the open stretch holding `now` (intervals meeting at UTC midnight join);
    None when it does not close within the look-ahead."""
    end: datetime | None = None
    day = now.date() - timedelta(days=1)
    for _ in range(_LOOKAHEAD_DAYS + 1):
        for start, stop in calendar.open_intervals(day):
            if end is None:
                if start <= now < stop:
                    end = stop
            elif start == end:
                end = stop
            elif start > end:
                return end
        day += timedelta(days=1)
    return None  # open for the whole look-ahead: around the clock
