"""The one place a service reads the time.

Services never call `datetime.now()` themselves: they ask the runtime's clock, so a test
can run days of SLA time in seconds. `TIDEMARK_CLOCK` (or `TIDEMARK_<SERVICE>_CLOCK`)
chooses it:

- `system` (the default): real UTC time.
- `manual` or `manual:<ISO-8601 instant>`: a frozen clock that only moves when told to,
  through `PUT /v1/admin/clock` (mounted only in this mode). Never use it in production.
- `offset`: real time plus an offset that `PUT /v1/admin/clock` moves forward, so time
  flows as usual and a test can still jump days ahead (end-to-end tests). Tests only.

Loops that wait for an instant use `clock.sleep_until(instant, wake)`: with the system
clock it sleeps the real difference; with a manual clock it wakes as soon as the clock
is moved to or past the instant (or `wake` is set), so no test ever sleeps SLA time.

Event and business time (ce_time, submitted_at, sent_at, deadlines...) always comes from
the runtime clock. The few reads that must follow the real world whatever the runtime
clock says (a webhook signature's timestamp, checked by the receiver against its own
clock; a retry's back-off) call `wall_clock_now()`, so each such use is explicit and
greppable.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol

# Real sleeps are capped so a loop re-checks now and then even if nothing wakes it
# (e.g. the machine's clock was stepped).
MAX_REAL_SLEEP = 60.0


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, instant: datetime | None, wake: asyncio.Event) -> None: ...


def wall_clock_now() -> datetime:
    """The machine's real UTC time, whatever the runtime clock says: only for what must
    follow the real world (see the module's doc); never for event or business time."""
    return datetime.now(UTC)


class SystemClock:
    def now(self) -> datetime:
        return wall_clock_now()

    async def sleep_until(self, instant: datetime | None, wake: asyncio.Event) -> None:
        timeout = MAX_REAL_SLEEP
        if instant is not None:
            timeout = min(max((instant - self.now()).total_seconds(), 0.0), MAX_REAL_SLEEP)
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)


class ManualClock:
    """A clock that stands still until `set` or `advance` moves it (never backwards)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or wall_clock_now()).astimezone(UTC)
        self._moved: asyncio.Event | None = None

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an instant with a UTC offset")
        instant = instant.astimezone(UTC)
        if instant < self._now:
            raise ValueError(f"the clock never goes back (it is {self._now.isoformat()})")
        self._now = instant
        if self._moved is not None:
            self._moved.set()
        return self._now

    def advance(self, by: timedelta) -> datetime:
        return self.set(self._now + by)

    async def sleep_until(self, instant: datetime | None, wake: asyncio.Event) -> None:
        if instant is not None and instant <= self._now:
            return
        if self._moved is None or self._moved.is_set():
            self._moved = asyncio.Event()
        moved = asyncio.ensure_future(self._moved.wait())
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            moved.cancel()
            woken.cancel()


class OffsetClock(ManualClock):
    """Real time plus an offset that only grows: `set`/`advance` jump ahead, time flows on."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return wall_clock_now() + self._offset

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an instant with a UTC offset")
        ahead = instant.astimezone(UTC) - self.now()
        if ahead < timedelta(0):
            raise ValueError(f"the clock never goes back (it is {self.now().isoformat()})")
        self._offset += ahead
        if self._moved is not None:
            self._moved.set()
        return self.now()

    async def sleep_until(self, instant: datetime | None, wake: asyncio.Event) -> None:
        # Sleep the real difference, but wake at once when the clock jumps or `wake` is set.
        if self._moved is None or self._moved.is_set():
            self._moved = asyncio.Event()
        timeout = MAX_REAL_SLEEP
        if instant is not None:
            timeout = min(max((instant - self.now()).total_seconds(), 0.0), MAX_REAL_SLEEP)
        if timeout <= 0:
            return
        moved = asyncio.ensure_future(self._moved.wait())
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({moved, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            moved.cancel()
            woken.cancel()


def clock_from_setting(value: str) -> SystemClock | ManualClock:
    """`system`, `offset`, `manual` or `manual:<instant>`; anything else is a ValueError."""
    kind, _, start = value.partition(":")
    if kind == "system" and not start:
        return SystemClock()
    if kind == "offset" and not start:
        return OffsetClock()
    if kind == "manual":
        return ManualClock(parse_instant(start) if start else None)
    raise ValueError(
        f"clock must be 'system', 'offset', 'manual' or 'manual:<ISO instant>', not {value!r}"
    )


def parse_instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return instant.astimezone(UTC)
