"""The manual clock: moves only forward, wakes sleepers at once; settings reject bad values."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tidekit.clock import ManualClock, OffsetClock, SystemClock, clock_from_setting

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_setting_forms() -> None:
    assert isinstance(clock_from_setting("system"), SystemClock)
    manual = clock_from_setting("manual:2026-11-27T15:00:00Z")
    assert isinstance(manual, ManualClock) and manual.now() == T0
    assert isinstance(clock_from_setting("offset"), OffsetClock)
    with pytest.raises(ValueError, match="'system', 'offset', 'manual'"):
        clock_from_setting("wallclock")


def test_manual_clock_never_goes_back() -> None:
    clock = ManualClock(T0)
    assert clock.advance(timedelta(hours=72)) == T0 + timedelta(hours=72)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(T0)


async def test_sleeper_wakes_when_clock_reaches_its_instant() -> None:
    clock = ManualClock(T0)
    due = T0 + timedelta(days=3)
    wake = asyncio.Event()
    sleeper = asyncio.create_task(clock.sleep_until(due, wake))
    await asyncio.sleep(0.01)
    assert not sleeper.done()  # three days of SLA time do not pass by themselves
    clock.set(due)
    await asyncio.wait_for(sleeper, 1.0)


async def test_sleeper_wakes_on_its_event() -> None:
    clock = ManualClock(T0)
    wake = asyncio.Event()
    sleeper = asyncio.create_task(clock.sleep_until(None, wake))
    await asyncio.sleep(0.01)
    wake.set()
    await asyncio.wait_for(sleeper, 1.0)


async def test_offset_clock_flows_and_jumps_ahead_waking_sleepers() -> None:
    clock = OffsetClock()
    first = clock.now()
    await asyncio.sleep(0.01)
    assert clock.now() > first  # real time flows
    wake = asyncio.Event()
    due = clock.now() + timedelta(days=2)
    sleeper = asyncio.create_task(clock.sleep_until(due, wake))
    await asyncio.sleep(0.01)
    assert not sleeper.done()
    jumped = clock.set(due)
    assert jumped >= due
    await asyncio.wait_for(sleeper, 1.0)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(first)
