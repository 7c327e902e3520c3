"""`tidemark-ops timeline TID` over the five services' event stores, for a real ticket."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from typing import Any

import pytest

from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings

from .conftest import System, poll

pytestmark = pytest.mark.e2e


def ops(settings: OpsSettings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = asyncio.run(run(list(argv), settings, out=out, err=out))
    return code, out.getvalue()


def test_timeline_of_a_ticket_follows_causation_across_services(
    system: System, database_url: str, kafka_bootstrap: str
) -> None:
    ticket = {
        "channel": "web",
        "requester": {"email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "name": "Ada"},
        "subject": "Export fails",
        "body": "The CSV export fails with an error since the update.",
        "product": {"version": "24.1", "edition": "business"},
        "severity_hint": "medium",
    }
    with system.client("intake") as intake:
        created = intake.post("/v1/tickets", json=ticket)
        assert created.status_code == 201, created.text
    tid = created.json()["tid"]
    settings = OpsSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
    wanted = {"ticket.submitted", "ticket.classified", "sla.clock_started", "notification.sent"}

    def events() -> list[dict[str, Any]]:
        code, said = ops(settings, "timeline", tid, "--json")
        return json.loads(said) if code == 0 else []

    timeline = poll(events, lambda es: wanted <= {e["type"] for e in es}, timeout=60)
    types = [e["type"] for e in timeline]
    assert types[0] == "ticket.submitted"
    assert types.index("ticket.classified") < types.index("sla.clock_started")
    assert types.index("sla.clock_started") < types.index("notification.sent")
    placed: set[str] = set()
    for e in timeline:  # every cause that is the ticket's comes before its effects
        ids = {x["id"] for x in timeline}
        assert e["causation_id"] not in ids or e["causation_id"] in placed, e
        placed.add(e["id"])
    assert {"intake", "classifier", "sla-timer", "notifier"} <= {e["service"] for e in timeline}
    # The obligations after each step: none before the clock starts, then a running one.
    started = types.index("sla.clock_started")
    assert timeline[0]["obligations"] == []
    first = timeline[started]["obligations"]
    assert [(o["kind"], o["state"]) for o in first] == [("first_response", "running")]
    assert first[0]["deadline"] == timeline[started]["data"]["deadline"]
    code, table = ops(settings, "timeline", tid)
    assert code == 0 and "first_response running due" in table

    code, table = ops(settings, "timeline", tid)
    assert code == 0 and "ticket.submitted v" in table and "#1" in table, table
    code, said = ops(settings, "timeline", "TID-NOPE-0")
    assert code == 1 and "no events for TID-NOPE-0" in said
