"""UTC offsets of an IANA zone as constant stretches, found once per zone and year.

zoneinfo has no public list of transitions, so the offset is sampled at every UTC midnight
of the year (plus a few days either side) and each change is pinned to the second by
bisection. Two transitions within one day (which no current zone has) would go unseen.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_YEAR, MAX_YEAR = 1900, 9000  # instants outside are refused (CalendarError)
_MARGIN_DAYS = 3


def year_start(year: int) -> int:
    """UTC seconds since the epoch of YEAR-01-01T00:00Z."""
    return (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(seconds=1)


def _offset(tz: ZoneInfo, ts: int) -> int:
    moment = EPOCH + timedelta(seconds=ts)
    offset = moment.astimezone(tz).utcoffset()
    assert offset is not None
    return offset // timedelta(seconds=1)


@dataclass(frozen=True)
class Offsets:
    """Constant-offset stretches: `starts[i]` (UTC seconds) begins offset `offsets[i]`."""

    starts: tuple[int, ...]
    offsets: tuple[int, ...]

    def stretches(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """(begin, end, offset) of every stretch meeting [lo, hi), clipped to it."""
        i = max(bisect_right(self.starts, lo) - 1, 0)
        out: list[tuple[int, int, int]] = []
        while i < len(self.starts) and self.starts[i] < hi:
            begin = max(self.starts[i], lo)
            end = self.starts[i + 1] if i + 1 < len(self.starts) else hi
            out.append((begin, min(end, hi), self.offsets[i]))
            i += 1
        return out


@lru_cache(maxsize=1024)
def offsets_for_year(zone: str, year: int) -> Offsets:
    """The offsets around UTC year `year` (from a few days before to a few days after)."""
    tz = ZoneInfo(zone)
    lo = year_start(year) - _MARGIN_DAYS * DAY
    hi = year_start(year + 1) + _MARGIN_DAYS * DAY
    starts = [lo]
    offsets = [_offset(tz, lo)]
    prev_ts, prev_off = lo, offsets[0]
    ts = lo + DAY
    while ts <= hi:
        off = _offset(tz, ts)
        if off != prev_off:
            a, b = prev_ts, ts  # offset(a) == prev_off, offset(b) != prev_off
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(tz, mid) == prev_off:
                    a = mid
                else:
                    b = mid
            starts.append(b)
            offsets.append(off)
        prev_ts, prev_off = ts, off
        ts += DAY
    return Offsets(tuple(starts), tuple(offsets))
