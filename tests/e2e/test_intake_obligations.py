"""Intake's ticket view shows the response clock as the sla-timer does, through a hold and a
resume: running, paused, then running again with the new deadline (all five services)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from .conftest import System, poll

pytestmark = pytest.mark.e2e


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _shown(ob: dict[str, Any]) -> tuple[Any, ...]:
    return (
        ob["obligation_id"],
        ob["kind"],
        ob["state"],
        _instant(ob["deadline"]),
        _instant(ob["started_at"]),
        _instant(ob.get("met_at")),
    )


def _seen_by_intake(staff: httpx.Client, tid: str, event_type: str) -> int:
    """How many `event_type` events intake has folded into the ticket (recorded with it)."""
    events = staff.get(f"/v1/tickets/{tid}/events").json()
    return sum(1 for e in events if e["type"] == event_type)


def test_the_view_follows_a_hold_and_a_resume_like_the_sla_timer(system: System) -> None:
    email = f"hold-{uuid.uuid4().hex[:8]}@example.com"
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    with system.client("classifier") as classifier:
        license_body = {
            "edition": "business",
            "owner": "Hopper Ltd",
            "emails": [email],
            "purchase_date": system.now().date().isoformat(),
        }
        assert classifier.put(f"/v1/licenses/{key}", json=license_body).status_code == 201
    ticket_body = {
        "channel": "web",
        "requester": {"email": email, "name": "Grace"},
        "license_key": key,
        "subject": "Checkout broken",
        "body": "Since the update the checkout is broken: every order fails.",
        "severity_hint": "high",  # commercial + high: 1 h on the 24x7 calendar, any day
    }
    with system.client("intake") as intake:
        tid = intake.post("/v1/tickets", json=ticket_body).json()["tid"]

    with (
        system.client("intake", system.keys.agent) as staff,
        system.client("sla-timer") as sla,
    ):

        def both() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            mine = [_shown(ob) for ob in staff.get(f"/v1/tickets/{tid}").json()["obligations"]]
            theirs = [_shown(ob) for ob in sla.get(f"/v1/tickets/{tid}/sla").json()["obligations"]]
            return mine, theirs

        poll(lambda: staff.get(f"/v1/tickets/{tid}").json()["status"], lambda s: s == "open")
        poll(lambda: _seen_by_intake(staff, tid, "sla.clock_started"), lambda n: n == 1)
        mine, theirs = both()
        assert mine == theirs and mine[0][2] == "running"
        first_deadline = mine[0][3]

        assert staff.post(f"/v1/tickets/{tid}/status", json={"status": "on_hold"}).is_success
        poll(lambda: _seen_by_intake(staff, tid, "sla.clock_paused"), lambda n: n == 1)
        mine, theirs = both()
        assert mine == theirs and (mine[0][2], mine[0][3]) == ("paused", None)

        assert staff.post(f"/v1/tickets/{tid}/status", json={"status": "open"}).is_success
        poll(lambda: _seen_by_intake(staff, tid, "sla.clock_resumed"), lambda n: n == 1)
        mine, theirs = both()
        assert mine == theirs and mine[0][2] == "running"
        assert mine[0][3] is not None and mine[0][3] > first_deadline  # the hold added time
