"""GET /v1/tickets/{tid} shows each obligation as the sla-timer's own view does (state,
deadline, start, reply), fed the sla.* events the sla-timer's own code emits: through a hold
and a resume, a late reply, a hold after the breach, a reply in time, and a dozen
obligations listed by number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import tidekit.sla as sla
from tests.unit.intake.sla_timer_copy import SlaTimerCopy

from .conftest import Desk

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
H = timedelta(hours=1)


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


async def assert_agrees(desk: Desk, tid: str, timer: SlaTimerCopy, now: datetime) -> list[str]:
    """Intake's view equals the sla-timer's, obligation by obligation, in number order;
    returns the states."""
    desk.clock.set(now)
    shown: list[dict[str, Any]] = (await desk.ticket(tid))["obligations"]
    expected = timer.view(now)
    assert [ob["obligation_id"] for ob in shown] == list(expected)
    for ob in shown:
        want = expected[ob["obligation_id"]]
        got = (
            ob["kind"],
            ob["state"],
            _instant(ob["deadline"]),
            _instant(ob["started_at"]),
            _instant(ob.get("met_at")),
        )
        assert got == (want.kind, want.state, want.deadline, want.started_at, want.met_at), ob
    return [ob["state"] for ob in shown]


async def play(desk: Desk, tid: str, timer: SlaTimerCopy, event: sla.TicketEvent) -> None:
    await desk.deliver(*timer.apply(event))


async def test_a_hold_then_a_resume_runs_again_with_the_new_deadline(desk: Desk) -> None:
    tid = await desk.submit(T0)
    timer = SlaTimerCopy.submitted(tid, T0, "commercial", "high")  # 1 h on 24x7
    await desk.deliver(*timer.published)
    assert await assert_agrees(desk, tid, timer, T0) == ["running"]

    await play(desk, tid, timer, sla.OnHold(T0 + 10 * timedelta(minutes=1)))
    assert await assert_agrees(desk, tid, timer, T0 + 20 * timedelta(minutes=1)) == ["paused"]

    await play(desk, tid, timer, sla.Resumed(T0 + 40 * timedelta(minutes=1)))
    assert await assert_agrees(desk, tid, timer, T0 + 41 * timedelta(minutes=1)) == ["running"]
    deadline = (await desk.ticket(tid))["obligations"][0]["deadline"]
    assert _instant(deadline) == T0 + 90 * timedelta(minutes=1)  # 30 min on hold added

    # past the new deadline, before the sla-timer's breach arrives: both say breached
    assert await assert_agrees(desk, tid, timer, T0 + 91 * timedelta(minutes=1)) == ["breached"]


async def test_a_reply_after_the_deadline_stays_breached(desk: Desk) -> None:
    tid = await desk.submit(T0)
    timer = SlaTimerCopy.submitted(tid, T0, "commercial", "high")
    await desk.deliver(*timer.published)
    timer.advance(T0 + 2 * H)  # the breach at T0 + 1 h
    await desk.deliver(*timer.published[-2:])  # the warning, then the breach
    assert await assert_agrees(desk, tid, timer, T0 + 2 * H) == ["breached"]

    await play(desk, tid, timer, sla.StaffReplied(T0 + 3 * H))  # sla.clock_met, late
    assert await assert_agrees(desk, tid, timer, T0 + 3 * H) == ["breached"]


async def test_a_hold_after_the_breach_stays_breached_and_a_timely_reply_is_met(
    desk: Desk,
) -> None:
    late, timely = await desk.submit(T0), await desk.submit(T0)
    late_timer = SlaTimerCopy.submitted(late, T0, "commercial", "high")
    timely_timer = SlaTimerCopy.submitted(timely, T0, "commercial", "high")
    await desk.deliver(*late_timer.published, *timely_timer.published)

    await play(desk, timely, timely_timer, sla.StaffReplied(T0 + 30 * timedelta(minutes=1)))
    await play(desk, late, late_timer, sla.OnHold(T0 + 2 * H))  # after the breach
    assert await assert_agrees(desk, late, late_timer, T0 + 2 * H) == ["breached"]
    assert await assert_agrees(desk, timely, timely_timer, T0 + 2 * H) == ["met"]

    await play(desk, late, late_timer, sla.Resolved(T0 + 3 * H))
    assert await assert_agrees(desk, late, late_timer, T0 + 3 * H) == ["breached"]


async def test_twelve_obligations_are_listed_by_number(desk: Desk) -> None:
    tid = await desk.submit(T0)
    timer = SlaTimerCopy.submitted(tid, T0, "commercial", "medium")  # 24 h, business days
    await desk.deliver(*timer.published)
    at = T0
    for _ in range(11):  # each reply meets one obligation, each customer message opens one
        at += timedelta(minutes=5)
        await play(desk, tid, timer, sla.StaffReplied(at))
        at += timedelta(minutes=5)
        await play(desk, tid, timer, sla.CustomerMessage(at))
    states = await assert_agrees(desk, tid, timer, at)
    assert states == ["met"] * 11 + ["running"]
    shown = [ob["obligation_id"] for ob in (await desk.ticket(tid))["obligations"]]
    assert shown == [f"{tid}/{n}" for n in range(1, 13)]
