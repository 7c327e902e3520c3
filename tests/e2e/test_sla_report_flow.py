"""The SLA report end to end: three tickets through intake, the classifier and the
sla-timer; one answered in time, one never, one late. Escalation's report counts them as
docs/sla.md ("SLA attainment") says, and charges each breach to the queue the ticket
waited in when it breached (tier 1), though the breach then moves it to tier 2."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from .conftest import System, poll
from .test_breach_flow import next_weekday_at

pytestmark = [pytest.mark.e2e, pytest.mark.moves_clock]


def test_the_report_counts_tickets_met_and_breached_through_the_system(system: System) -> None:
    # A month ahead of anything else: no other test's obligation falls due in our window.
    submit_at = next_weekday_at(system.now() + timedelta(days=30), 9)
    system.jump_to(submit_at)
    email, key = f"rep-{uuid.uuid4().hex[:8]}@example.com", f"LIC-{uuid.uuid4().hex[:8]}"
    with system.client("classifier") as classifier:
        body = {"edition": "business", "owner": "Report Ltd", "emails": [email],
                "purchase_date": submit_at.date().isoformat()}  # fmt: skip
        assert classifier.put(f"/v1/licenses/{key}", json=body).status_code == 201

    def submit(subject: str) -> str:
        ticket: dict[str, Any] = {
            "channel": "web", "requester": {"email": email, "name": "Rep"},
            "license_key": key, "subject": subject, "body": "The report is wrong.",
            "severity_hint": "medium",
        }  # fmt: skip
        with system.client("intake") as intake:
            created = intake.post("/v1/tickets", json=ticket)
        assert created.status_code == 201, created.text
        return created.json()["tid"]  # type: ignore[no-any-return]

    on_time, never, late = submit("answered"), submit("forgotten"), submit("answered late")

    def first_obligation(tid: str) -> dict[str, Any]:
        with system.client("sla-timer") as sla:
            r = sla.get(f"/v1/tickets/{tid}/sla")
        return r.json()["obligations"][0] if r.status_code == 200 else {}  # type: ignore[no-any-return]

    deadline = datetime.fromisoformat(
        poll(lambda: first_obligation(on_time), lambda ob: "deadline" in ob)["deadline"]
    )  # commercial + medium: 24 h of business days, 09:00 the next day
    for tid in (never, late):
        poll(lambda t=tid: first_obligation(t), lambda ob: "deadline" in ob)  # type: ignore[misc]

    def reply(tid: str) -> None:
        with system.client("intake", system.keys.agent) as staff:
            r = staff.post(f"/v1/tickets/{tid}/messages", json={"body": "Looking into it."})
        assert r.status_code == 201, r.text

    window = {"from": submit_at.isoformat(), "to": (submit_at + timedelta(days=2)).isoformat(),
              "tz": "UTC"}  # fmt: skip

    def report(group_by: str = "level") -> dict[str, Any]:
        with system.client("escalation") as escalation:
            r = escalation.get("/v1/reports/sla", params={**window, "group_by": group_by})
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def first(r: dict[str, Any]) -> tuple[int, int, int]:
        t = r["totals"]["first_response"]
        return t["met"], t["breached"], t["running"]

    system.jump_to(submit_at + timedelta(hours=1))
    reply(on_time)
    # Before the deadline: one met, two still running (left out of attainment).
    during = poll(report, lambda r: first(r) == (1, 0, 2))
    assert during["totals"]["first_response"]["attainment"] == 1.0

    system.jump_to(deadline + timedelta(minutes=1))  # inside tier-2 hours: breaches move on
    for tid in (never, late):
        poll(lambda t=tid: first_obligation(t), lambda ob: ob["state"] == "breached")  # type: ignore[misc]
    reply(late)
    poll(lambda: first_obligation(late), lambda ob: ob["met_at"] is not None)

    after = poll(report, lambda r: first(r) == (1, 2, 0) and r["totals"]["first_response"][
        "responses"] == 2)  # fmt: skip
    assert after["totals"]["first_response"]["attainment"] == 0.3333
    # nearest rank of two: the reply an hour after the jump (the start was seconds after it)
    assert 3000 < after["totals"]["first_response"]["median_response_seconds"] <= 3660
    assert [(g["kind"], g["group"]) for g in after["groups"]] == [("first_response", "commercial")]
    assert sum(after["breaches_by_hour"]["first_response"]) == 2
    assert after["breaches_by_hour"]["first_response"][deadline.hour] == 2
    by_queue = {g["group"]: (g["met"], g["breached"]) for g in report("queue")["groups"]}
    assert by_queue == {"tier1": (1, 2)}  # where they waited when they breached
