"""The scheduler's in-memory index: the soonest known due instants, a bounded sorted list.

It holds instants only (no rows): enough to know when to wake. Postgres stays the truth;
the index is refilled from it in due order when it runs dry, and offered every timer a
handler writes, so a sooner one wakes the scheduler early.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime


class DueIndex:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._due: list[datetime] = []
        self.complete = False  # True when the last refill found fewer rows than capacity

    def __len__(self) -> int:
        return len(self._due)

    def head(self) -> datetime | None:
        return self._due[0] if self._due else None

    def refill(self, instants: Iterable[datetime]) -> None:
        self._due = sorted(instants)[: self.capacity]
        self.complete = len(self._due) < self.capacity

    def offer(self, due: datetime) -> bool:
        """Add a newly written timer; True when it is the soonest (wake the scheduler)."""
        sooner = not self._due or due < self._due[0]
        if len(self._due) < self.capacity or due < self._due[-1]:
            bisect.insort(self._due, due)
            if len(self._due) > self.capacity:
                self._due.pop()
                self.complete = False
        return sooner

    def drop_through(self, now: datetime) -> None:
        """Forget instants at or before `now` (they were claimed, or are another's)."""
        del self._due[: bisect.bisect_right(self._due, now)]

    def clear(self) -> None:
        self._due.clear()
        self.complete = False

    def needs_refill(self) -> bool:
        return not self._due and not self.complete
