"""Routing in process: each rule inside and outside tier-2 hours, and exactly once under
redelivery, through escalation's real consumer path on real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.escalation.factories import EVENING, IN_TIER2, SATURDAY, breached, review, warned
from tests.unit.escalation.factories import classified as _classified
from tidekit.events.intake import TicketReopened, TicketResolved

from .conftest import StartEscalation, new_tid

pytestmark = pytest.mark.integration


def classified(tid: str, **over: Any) -> Any:
    """A classification as the classifier would publish it (the entitlement does not matter
    to routing; the process-based tests kept it expired for a shared sla-timer's sake)."""
    return _classified(tid, **{"entitlement": "expired", **over})


def queued(stream: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [
        (e["queue"], e["from_queue"], e["rule"]) for e in stream if e["type"] == "ticket.queued"
    ]


async def test_classified_tickets_land_by_severity_and_tier2_hours(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    critical, medium, late_high = new_tid(), new_tid(), new_tid()
    await esc.deliver(classified(critical, severity="critical"), classified(medium))
    assert queued(await esc.stream(critical)) == [
        ("tier2", None, "classified:critical-high->tier2")
    ]
    assert queued(await esc.stream(medium)) == [("tier1", None, "default:tier1")]

    esc.clock.set(EVENING)  # Monday 17:00: tier 2 has gone home
    await esc.deliver(classified(late_high, severity="high"))
    [event] = await esc.stream(late_high)
    assert (event["queue"], event["rule"]) == (
        "tier1",
        "classified:critical-high->tier1-until-tier2-opens",
    )
    assert "2026-11-24T06:00:00Z" in event["note"]
    tier1 = {t["tid"]: t for t in await esc.queue("tier1")}
    assert tier1[late_high]["note"] == event["note"] and medium in tier1
    assert critical in {t["tid"] for t in await esc.queue("tier2")}
    for tid in (critical, medium, late_high):  # every move is in the outbox, once
        assert set((await esc.published(tid)).values()) == {1}


async def test_breach_routing_and_exactly_once_under_redelivery(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    day, night = new_tid(), new_tid()
    await esc.deliver(classified(day), classified(night))

    [day_breach] = await esc.deliver(breached(day))  # Monday 10:00: tier 2 at work
    moved = await esc.stream(day)
    assert [e["type"] for e in moved] == ["ticket.queued", "ticket.escalated", "ticket.queued"]
    escalated = moved[1]
    assert (escalated["from_queue"], escalated["to_queue"], escalated["rule"]) == (
        "tier1",
        "tier2",
        "breach:tier1->tier2",
    )
    assert escalated["reason"] and escalated["escalated_by"] == "system"

    esc.clock.set(SATURDAY)
    [night_breach] = await esc.deliver(breached(night))
    moved = await esc.stream(night)
    assert len(moved) == 3
    assert queued(moved)[-1] == ("supervisor", "tier1", "breach:tier1->supervisor")

    # The same records again, the same obligation's breach under a new event id, and a
    # restart (a new app on the same database and consumer group, nothing kept in
    # memory) that is handed the records once more: nothing moves.
    await esc.redeliver(day_breach, night_breach)
    await esc.deliver(breached(day), breached(night))
    assert esc.duplicates() == 2  # seen, and ignored
    again = await start_escalation(
        SATURDAY, database_url=esc.settings.database_url, group=esc.settings.consumer_group_suffix
    )
    await again.redeliver(day_breach, night_breach)
    assert again.duplicates() == 4  # the same group: the same metric
    for tid in (day, night):
        stream = await again.stream(tid)
        assert [e["type"] for e in stream].count("ticket.escalated") == 1, stream
        assert len(stream) == 3
        assert set((await again.published(tid)).values()) == {1}, "an escalation twice"


async def test_warning_and_review_requests(start_escalation: StartEscalation) -> None:
    esc = await start_escalation(SATURDAY)
    critical, other = new_tid(), new_tid()
    await esc.deliver(classified(critical, severity="critical"), classified(other))
    assert queued(await esc.stream(critical))[0][0] == "tier1"  # weekend: tier 1

    await esc.deliver(warned(critical, 1))  # still the weekend: stays
    assert len(await esc.stream(critical)) == 1
    esc.clock.set(IN_TIER2.replace(day=30))  # Monday 10:00
    await esc.deliver(warned(critical, 2))  # next obligation warns in tier-2 hours
    moved = await esc.stream(critical)
    assert len(moved) == 3
    assert queued(moved)[-1] == ("tier2", "tier1", "warning:tier1-critical-high->tier2")

    await esc.deliver(review(other))
    moved = await esc.stream(other)
    assert len(moved) == 3
    assert queued(moved)[-1] == ("supervisor", "tier1", "review:supervisor")
    assert other in {t["tid"] for t in await esc.queue("supervisor")}

    # Resolved: it leaves the listing; re-opened: back, in the same queue.
    at = IN_TIER2.replace(day=30)
    await esc.deliver(TicketResolved(tid=other, resolved_by="ann", resolved_at=at))
    assert other not in {t["tid"] for t in await esc.queue("supervisor")}
    await esc.deliver(TicketReopened(tid=other, reopened_by="customer", reopened_at=at))
    assert other in {t["tid"] for t in await esc.queue("supervisor")}
    assert len(await esc.stream(other)) == 3  # leaving and re-entering the listing is not a move
