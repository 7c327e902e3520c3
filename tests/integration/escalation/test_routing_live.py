"""Routing over real Kafka and Postgres: each rule inside and outside tier-2 hours."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.escalation.factories import (
    EVENING,
    IN_TIER2,
    SATURDAY,
    breached,
    review,
    warned,
)
from tests.unit.escalation.factories import (
    classified as _classified,
)
from tidekit.events.intake import TicketReopened, TicketResolved

from .conftest import Escalation, new_tid, poll


def classified(tid: str, **over: Any) -> Any:
    """A classification as the classifier would publish it, with an expired entitlement
    unless a test says otherwise: the session's real sla-timer then starts no clock of its
    own for these tickets (it reads the same topics), so no foreign breach moves them."""
    return _classified(tid, **{"entitlement": "expired", **over})


pytestmark = pytest.mark.integration


def queued(stream: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [
        (e["queue"], e["from_queue"], e["rule"]) for e in stream if e["type"] == "ticket.queued"
    ]


def test_classified_tickets_land_by_severity_and_tier2_hours(start_escalation: Any) -> None:
    esc: Escalation = start_escalation(IN_TIER2)
    critical, medium, late_high = new_tid(), new_tid(), new_tid()
    esc.publish("classifier", classified(critical, severity="critical"))
    esc.publish("classifier", classified(medium, severity="medium"))
    assert queued(esc.wait_stream(critical, bool)) == [
        ("tier2", None, "classified:critical-high->tier2")
    ]
    assert queued(esc.wait_stream(medium, bool)) == [("tier1", None, "default:tier1")]

    esc.set_clock(EVENING)  # Monday 17:00: tier 2 has gone home
    esc.publish("classifier", classified(late_high, severity="high"))
    [event] = esc.wait_stream(late_high, bool)
    assert (event["queue"], event["rule"]) == (
        "tier1",
        "classified:critical-high->tier1-until-tier2-opens",
    )
    assert "2026-11-24T06:00:00Z" in event["note"]
    tier1 = {t["tid"]: t for t in esc.queue("tier1")}
    assert tier1[late_high]["note"] == event["note"] and medium in tier1
    assert critical in {t["tid"] for t in esc.queue("tier2")}
    # every move reached Kafka, once
    for tid in (critical, medium, late_high):
        assert set(poll(lambda t=tid: esc.on_kafka(t), lambda c: all(c.values())).values()) == {1}


def test_breach_routing_and_exactly_once_under_redelivery(start_escalation: Any) -> None:
    esc: Escalation = start_escalation(IN_TIER2)
    day, night = new_tid(), new_tid()
    esc.publish("classifier", classified(day), classified(night))
    esc.wait_stream(day, bool)
    esc.wait_stream(night, bool)

    [day_breach] = esc.publish("sla-timer", breached(day))  # Monday 10:00: tier 2 at work
    moved = esc.wait_stream(day, lambda s: len(s) == 3)
    assert [e["type"] for e in moved] == ["ticket.queued", "ticket.escalated", "ticket.queued"]
    escalated = moved[1]
    assert (escalated["from_queue"], escalated["to_queue"], escalated["rule"]) == (
        "tier1",
        "tier2",
        "breach:tier1->tier2",
    )
    assert escalated["reason"] and escalated["escalated_by"] == "system"

    esc.set_clock(SATURDAY)
    [night_breach] = esc.publish("sla-timer", breached(night))
    moved = esc.wait_stream(night, lambda s: len(s) == 3)
    assert queued(moved)[-1] == ("supervisor", "tier1", "breach:tier1->supervisor")

    # The same records again, the same obligation's breach under a new event id, and a
    # restart of the consumer (SIGKILL, then the same group and database): nothing moves.
    esc.redeliver("sla-timer", day_breach, night_breach)
    esc.publish("sla-timer", breached(day), breached(night))
    esc.wait_caught_up()
    esc.proc.kill()
    esc.proc.proc = None
    esc.proc.start().wait_healthy()
    esc.redeliver("sla-timer", day_breach, night_breach)
    esc.wait_caught_up()
    assert esc.metric("tidemark_consumer_duplicates_total") >= 2  # seen, and ignored
    for tid in (day, night):
        stream = esc.stream(tid)
        assert [e["type"] for e in stream].count("ticket.escalated") == 1, stream
        assert len(stream) == 3
        counts = poll(lambda t=tid: esc.on_kafka(t), lambda c: all(c.values()))
        assert set(counts.values()) == {1}, "an escalation reached Kafka twice"


def test_warning_and_review_requests(start_escalation: Any) -> None:
    esc: Escalation = start_escalation(SATURDAY)
    critical, other = new_tid(), new_tid()
    esc.publish("classifier", classified(critical, severity="critical"), classified(other))
    assert queued(esc.wait_stream(critical, bool))[0][0] == "tier1"  # weekend: tier 1
    esc.wait_stream(other, bool)

    esc.publish("sla-timer", warned(critical, 1))  # still the weekend: stays
    esc.set_clock(IN_TIER2.replace(day=30))  # Monday 10:00
    esc.publish("sla-timer", warned(critical, 2))  # next obligation warns in tier-2 hours
    moved = esc.wait_stream(critical, lambda s: len(s) == 3)
    assert queued(moved)[-1] == ("tier2", "tier1", "warning:tier1-critical-high->tier2")

    esc.publish("intake", review(other))
    moved = esc.wait_stream(other, lambda s: len(s) == 3)
    assert queued(moved)[-1] == ("supervisor", "tier1", "review:supervisor")
    assert other in {t["tid"] for t in esc.queue("supervisor")}

    # Resolved: it leaves the listing; re-opened: back, in the same queue.
    at = IN_TIER2.replace(day=30)
    esc.publish("intake", TicketResolved(tid=other, resolved_by="ann", resolved_at=at))
    poll(lambda: {t["tid"] for t in esc.queue("supervisor")}, lambda s: other not in s)
    esc.publish("intake", TicketReopened(tid=other, reopened_by="customer", reopened_at=at))
    poll(lambda: {t["tid"] for t in esc.queue("supervisor")}, lambda s: other in s)
    assert len(esc.stream(other)) == 3  # leaving and re-entering the listing is not a move
