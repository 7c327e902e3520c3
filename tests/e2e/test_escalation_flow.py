"""One ticket from POST through classification into tier 1, then handed by staff to the
development department: every service sees the move, over real Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from tidekit.events import TOPICS

from .conftest import System, poll
from .kafka_reader import for_ticket, read_topics
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


def test_ticket_is_queued_then_handed_to_development(system: System, kafka_bootstrap: str) -> None:
    email = f"linus-{uuid.uuid4().hex[:8]}@example.com"
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    with system.client("classifier") as classifier:
        r = classifier.put(
            f"/v1/licenses/{key}",
            json={"edition": "premium", "owner": "Torvalds Oy", "emails": [email],
                  "purchase_date": date.today().isoformat()},
        )  # fmt: skip
        assert r.status_code == 201, r.text  # a new license
    with system.client("intake") as intake:
        created = intake.post("/v1/tickets", json=new_ticket(email, key)).json()
        tid, auth = created["tid"], {"Authorization": f"Bearer {created['access_token']}"}
        ticket = poll(
            lambda: intake.get(f"/v1/tickets/{tid}", headers=auth).json(),
            lambda t: t.get("queue") == "tier1",
            timeout=60,
        )
        assert ticket["level"] == "commercial_vip" and ticket["severity"] == "medium"

    staff = {"X-Api-Key": system.keys.supervisor}  # a hand-off to development is a supervisor's
    body = {"to": "development", "reason": "checkout bug needs a product fix"}
    with system.client("escalation") as escalation:
        r = escalation.post(f"/v1/tickets/{tid}/escalate", json=body, headers=staff)
        assert r.status_code == 200, r.text
        assert (r.json()["from_queue"], r.json()["to_queue"]) == ("tier1", "development")
        assert tid in [t["tid"] for t in escalation.get("/v1/queues/development").json()["tickets"]]
        assert tid not in [t["tid"] for t in escalation.get("/v1/queues/tier1").json()["tickets"]]

    with system.client("intake") as intake:  # intake's read model follows the move
        poll(
            lambda: intake.get(f"/v1/tickets/{tid}", headers=auth).json(),
            lambda t: t.get("queue") == "development",
        )
        history = poll(
            lambda: intake.get(f"/v1/tickets/{tid}/events", headers=auth).json(),
            lambda h: "ticket.escalated" in {e["type"] for e in h},
        )
        assert [e["type"] for e in history].count("ticket.escalated") == 1

    records = poll(
        lambda: for_ticket(read_topics(kafka_bootstrap, [TOPICS["escalation"]]), tid),
        lambda rs: "ticket.escalated" in {r.type for r in rs},
    )
    [handoff] = [r for r in records if r.type == "ticket.escalated"]
    data: dict[str, Any] = json.loads(handoff.value)
    assert (data["tid"], data["to_queue"], data["level"]) == (tid, "development", "commercial_vip")
    assert data["reason"] == body["reason"] and data["escalated_by"] == "test-supervisor"
