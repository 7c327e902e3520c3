"""ticket.resolved carries the resolution time, through the HTTP API (manual clock): a
ticket nobody classified counts business time on non_commercial's calendar, a commercial
high one on the 24x7 calendar of its 1 h target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidekit.events.classifier import TicketClassified

from .conftest import Desk

pytestmark = pytest.mark.integration
FRI_15 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
MON_15 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)


def classified(tid: str) -> TicketClassified:
    return TicketClassified(
        tid=tid,
        level="commercial",
        severity="high",
        category="product_error",
        in_scope=True,
        entitlement="active",
        license_key="LIC-1",
        policy_version="2026.1",
        reasons=("test",),
        submitted_at=FRI_15,
        classified_at=FRI_15,
    )


async def test_resolved_carries_real_business_and_on_hold_seconds(desk: Desk) -> None:
    unclassified = await desk.submit(FRI_15, "ada@example.com")
    commercial = await desk.submit(FRI_15, "grace@example.com")
    await desk.deliver(classified(commercial))  # intake opens it on classification

    async def move(tid: str, status: str, at: datetime) -> None:
        desk.clock.set(at)
        r = await desk.http.post(
            f"/v1/tickets/{tid}/status", json={"status": status}, headers=desk.staff()
        )
        assert r.status_code == 200, r.text

    await move(unclassified, "open", FRI_15)
    for tid in (unclassified, commercial):
        await move(tid, "on_hold", FRI_15 + H)
    for tid in (unclassified, commercial):
        await move(tid, "open", FRI_15 + 2 * H)
    for tid in (unclassified, commercial):
        await move(tid, "resolved", MON_15)

    async def resolution_of(tid: str) -> tuple[int, int, int]:
        events = (await desk.http.get(f"/v1/tickets/{tid}/events", headers=desk.staff())).json()
        (data,) = [e["data"] for e in events if e["type"] == "ticket.resolved"]
        return (
            data["resolution_seconds"],
            data["resolution_business_seconds"],
            data["on_hold_seconds"],
        )

    # Fri 15:00 to Mon 15:00 is 72 h; on business days (Mon-Fri): Fri 9 h + Mon 15 h
    assert await resolution_of(unclassified) == (259_200, 86_400, 3_600)
    assert await resolution_of(commercial) == (259_200, 259_200, 3_600)  # 24x7
