"""Issue flow end to end: POST, classification, a response clock that runs out, exactly one
breach, escalation from tier 1 to tier 2 (inside tier-2 hours), and a staff reply that meets
the clock (late). All five services, real Kafka, Postgres and SMTP; time jumps ahead through
the services' offset clocks instead of waiting a business day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tidekit.events import TOPICS

from .conftest import System, poll
from .kafka_reader import for_ticket, read_topics

pytestmark = [pytest.mark.e2e, pytest.mark.moves_clock]


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def next_weekday_at(after: datetime, hour: int) -> datetime:
    """The first Tuesday-to-Thursday `hour`:00 UTC at least a day after `after`."""
    day = (after + timedelta(days=1)).date()
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_breach_escalates_to_tier2_once_and_a_staff_reply_meets_the_clock(
    system: System, kafka_bootstrap: str
) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    submit_at = next_weekday_at(system.now(), 9)  # deadline a business day later, 09:00
    system.jump_to(submit_at)
    with system.client("classifier") as classifier:
        license_body = {
            "edition": "business",
            "owner": "Lovelace Ltd",
            "emails": [email],
            "purchase_date": submit_at.date().isoformat(),
        }
        assert classifier.put(f"/v1/licenses/{key}", json=license_body).status_code == 201

    ticket_body: dict[str, Any] = {
        "channel": "web",
        "requester": {"email": email, "name": "Ada"},
        "license_key": key,
        "subject": "Export is slow",
        "body": "The CSV export is slow since the update.",
        "severity_hint": "medium",
    }
    with system.client("intake") as intake:
        created = intake.post("/v1/tickets", json=ticket_body).json()
    tid = created["tid"]
    customer = {"Authorization": f"Bearer {created['access_token']}"}

    def queue_of(tid: str) -> str | None:
        """Where escalation has the ticket (its queue listings are shared with other tests,
        so the ticket's own view is asked, which follows ticket.queued)."""
        with system.client("intake", "") as intake:
            return intake.get(f"/v1/tickets/{tid}", headers=customer).json()["queue"]  # type: ignore[no-any-return]

    with system.client("sla-timer") as sla:
        clock = poll(lambda: sla.get(f"/v1/tickets/{tid}/sla"), lambda r: r.status_code == 200)
        first = clock.json()["obligations"][0]
        assert (first["kind"], first["state"]) == ("first_response", "running")
        deadline = datetime.fromisoformat(first["deadline"].replace("Z", "+00:00"))
        # commercial + medium: 24 h on business days (Mon-Fri) from 09:00 on a Tue-Thu
        assert deadline - datetime.fromisoformat(first["started_at"].replace("Z", "+00:00")) == (
            timedelta(hours=24)
        )
        poll(lambda: queue_of(tid), lambda q: q == "tier1")

        system.jump_to(deadline + timedelta(minutes=1))  # 09:01, inside tier-2 hours
        breached = poll(
            lambda: sla.get(f"/v1/tickets/{tid}/sla").json()["obligations"][0],
            lambda ob: ob["state"] == "breached",
        )
        assert breached["met_at"] is None
        poll(lambda: queue_of(tid), lambda q: q == "tier2")

    with system.client("intake", system.keys.agent) as staff:
        reply = staff.post(f"/v1/tickets/{tid}/messages", json={"body": "Fixed in 24.1.3."})
        assert reply.status_code == 201
    with system.client("sla-timer") as sla:
        met = poll(
            lambda: sla.get(f"/v1/tickets/{tid}/sla").json()["obligations"][0],
            lambda ob: ob["met_at"] is not None,
        )
        assert met["state"] == "breached"  # met, but late: the breach stands

    records = poll(
        lambda: for_ticket(read_topics(kafka_bootstrap, list(TOPICS.values())), tid),
        lambda rs: "sla.clock_met" in {r.type for r in rs},
    )
    types = [r.type for r in records]
    assert types.count("sla.breached") == 1
    assert types.count("sla.warning") == 1  # at 75 %, before the breach
    escalated = [r for r in records if r.type == "ticket.escalated"]
    assert len(escalated) == 1
    breach = next(r for r in records if r.type == "sla.breached")
    assert escalated[0].headers["ce_causationid"] == breach.id  # moved because of the breach
    assert b'"to_queue":"tier2"' in escalated[0].value.replace(b" ", b"")
    with system.client("intake") as intake:
        # intake records sla.clock_met with the ticket in the transaction that folds it in
        poll(
            lambda: intake.get(f"/v1/tickets/{tid}/events", headers=customer).json(),
            lambda events: "sla.clock_met" in {e["type"] for e in events},
        )
        view = intake.get(f"/v1/tickets/{tid}", headers=customer).json()
    assert view["queue"] == "tier2"
    shown = view["obligations"][0]
    assert shown["state"] == "breached"  # the reply came after the deadline, as the sla-timer says
    assert [_instant(shown[k]) for k in ("deadline", "met_at")] == [
        _instant(met[k]) for k in ("deadline", "met_at")
    ]
    assert date.fromisoformat(view["created_at"][:10]) == submit_at.date()
