"""A warning or breach fired by the sla-timer's scheduler is not part of any request: it
starts a trace of its own, tied to its ticket through the ticket's correlation id, and what
it causes downstream (the escalation to tier 2) continues that trace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tidekit.events import TOPICS

from .conftest import System, poll
from .kafka_reader import SeenRecord, for_ticket, read_topics, trace_id

pytestmark = [pytest.mark.e2e, pytest.mark.moves_clock]


def next_weekday_at(after: datetime, hour: int) -> datetime:
    """The first Tuesday-to-Thursday `hour`:00 UTC at least a day after `after` (so the
    business-day deadline falls inside tier-2 hours and the breach escalates at once)."""
    day = (after + timedelta(days=1)).date()
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_breach_starts_its_own_trace_linked_to_the_ticket_by_correlation_id(
    system: System, kafka_bootstrap: str
) -> None:
    email = f"lin-{uuid.uuid4().hex[:8]}@example.com"
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    system.jump_to(next_weekday_at(system.now(), 9))
    with system.client("classifier") as classifier:
        body = {"edition": "business", "owner": "Lin Ltd", "emails": [email],
                "purchase_date": system.now().date().isoformat()}  # fmt: skip
        assert classifier.put(f"/v1/licenses/{key}", json=body).status_code == 201
    ticket = {
        "channel": "web",
        "requester": {"email": email, "name": "Lin"},
        "license_key": key,
        "subject": "Reports are slow",
        "body": "The monthly report is slow since the update.",
        "severity_hint": "medium",
    }
    with system.client("intake") as intake:
        created = intake.post("/v1/tickets", json=ticket)
        assert created.status_code == 201, created.text
    tid = created.json()["tid"]
    with system.client("sla-timer") as sla:
        clock = poll(lambda: sla.get(f"/v1/tickets/{tid}/sla"), lambda r: r.status_code == 200)
        deadline = clock.json()["obligations"][0]["deadline"]
    system.jump_to(datetime.fromisoformat(deadline.replace("Z", "+00:00")) + timedelta(minutes=1))

    def caused_by_breach(records: list[SeenRecord]) -> list[SeenRecord]:
        breach = [r for r in records if r.type == "sla.breached"]
        return [r for r in records if breach and r.headers.get("ce_causationid") == breach[0].id]

    records = poll(
        lambda: for_ticket(read_topics(kafka_bootstrap, list(TOPICS.values())), tid),
        lambda rs: "ticket.escalated" in {r.type for r in caused_by_breach(rs)},
        timeout=60,
    )
    submitted = next(r for r in records if r.type == "ticket.submitted")
    ticket_trace, chain = trace_id(submitted), submitted.headers["ce_correlationid"]
    fired = [r for r in records if r.type in ("sla.warning", "sla.breached")]
    assert sorted(r.type for r in fired) == ["sla.breached", "sla.warning"]
    for event in fired:
        assert trace_id(event) != ticket_trace, f"{event.type} continued the ticket's trace"
        assert event.headers["ce_correlationid"] == chain, f"{event.type} lost its ticket"
    breach = next(r for r in fired if r.type == "sla.breached")
    for downstream in caused_by_breach(records):
        assert trace_id(downstream) == trace_id(breach), downstream.type
        assert downstream.headers["ce_correlationid"] == chain, downstream.type
