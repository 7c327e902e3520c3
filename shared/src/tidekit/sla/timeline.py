"""A calendar's open time for one UTC year, compiled to sorted integer intervals.

Each chunk holds the open intervals (UTC microseconds since the epoch) that fall inside
[YEAR-01-01T00:00Z, YEAR+1-01-01T00:00Z), touching intervals merged (a business week is one
interval, a 24x7 year is one), and the open time before each interval. Asking how much open
time lies before an instant, or when a running total is reached, is then one bisection.

An instant is open when its wall-clock reading in the calendar's zone lies inside an open
interval of its local date and that date is not closed. So across DST, a wall interval that
starts inside a spring-forward gap opens at the transition, and a repeated autumn hour counts
both times it is inside an interval: a 00:00-24:00 day lasts 23 or 25 real hours.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from .zones import DAY, offsets_for_year, year_start

US = 1_000_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
Interval = tuple[int, int]  # seconds after local midnight, the end up to 86400 ("24:00")
_REACH = 2 * DAY  # wall time and UTC differ by less than this


@dataclass(frozen=True, slots=True)
class Chunk:
    lo: int  # UTC microseconds where the chunk starts
    hi: int  # ... and ends (exclusive)
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cum: tuple[int, ...]  # open microseconds of the chunk before starts[i]
    cum_end: tuple[int, ...]  # ... before ends[i]
    total: int

    def position(self, t: int) -> int:
        """Open microseconds in [lo, t), for lo <= t <= hi."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum[i] + (end if t > end else t) - self.starts[i]

    def reach(self, amount: int) -> int:
        """The earliest instant t with position(t) == amount, for 0 < amount <= total."""
        j = bisect_left(self.cum_end, amount)
        return self.starts[j] + amount - self.cum[j]


def build_chunk(
    week: Sequence[Sequence[Interval]],
    zone: str,
    closed: Callable[[int], bool],
    year: int,
) -> Chunk:
    """The chunk of UTC year `year`; `closed(ordinal)` says whether a local date is closed."""
    lo, hi = year_start(year), year_start(year + 1)
    offsets = offsets_for_year(zone, year)
    pieces: list[tuple[int, int]] = []
    first = date(year - 1, 12, 30).toordinal()
    last = date(year + 1, 1, 2).toordinal()
    for ordinal in range(first, last + 1):
        intervals = week[(ordinal - 1) % 7]
        if not intervals or closed(ordinal):
            continue
        midnight = (ordinal - EPOCH_ORDINAL) * DAY  # the local midnight, read as if UTC
        for start, end in intervals:
            wall_a, wall_b = midnight + start, midnight + end
            for begin, stop, offset in offsets.stretches(wall_a - _REACH, wall_b + _REACH):
                a = max(wall_a - offset, begin, lo)
                b = min(wall_b - offset, stop, hi)
                if a < b:
                    pieces.append((a, b))
    pieces.sort()
    starts: list[int] = []
    ends: list[int] = []
    for a, b in pieces:
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    cum: list[int] = []
    cum_end: list[int] = []
    total = 0
    for a, b in zip(starts, ends, strict=True):
        cum.append(total * US)
        total += b - a
        cum_end.append(total * US)
    return Chunk(
        lo * US,
        hi * US,
        tuple(a * US for a in starts),
        tuple(b * US for b in ends),
        tuple(cum),
        tuple(cum_end),
        total * US,
    )
