"""Queues in process: serving order, cursor paging, deadlines, summaries, and staff
escalation with the development hand-off (staff keys checked by intake's real app)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from tests.fixtures.access import ApiKeys
from tests.unit.escalation.factories import IN_TIER2, SUBMITTED
from tests.unit.escalation.factories import classified as _classified
from tidekit.events.sla import ClockMet, ClockStarted, TargetChanged
from tidekit.sla import add, load_policy, target_for

from .conftest import StartEscalation, iso, new_tid

pytestmark = pytest.mark.integration


def classified(tid: str, **over: Any) -> Any:
    """A classification as the classifier would publish it (expired entitlement, as in the
    process-based tests these replace)."""
    return _classified(tid, **{"entitlement": "expired", **over})


def started(tid: str, n: int, deadline: Any, level: str = "commercial") -> ClockStarted:
    return ClockStarted(
        tid=tid, obligation_id=f"{tid}/{n}", kind="first_response", level=level,
        severity="medium", started_at=SUBMITTED, deadline=deadline, warning_at=SUBMITTED,
        target_seconds=86400, calendar="business_days", policy_version="2026.1",
    )  # fmt: skip


async def test_urgent_first_then_fifo_ties_by_tid_number_across_pages(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    base = random.randrange(10**6, 10**8)
    t = SUBMITTED - timedelta(days=400)
    # (tid, urgent, submitted): TID-<base>9 and TID-<base+1>0 sort by number, not by text
    plan = [
        (f"TID-{base + 1}0", False, t),
        (f"TID-{base}9", False, t),
        (f"TID-{base}5", True, t + timedelta(hours=2)),
        (f"TID-{base}3", False, t + timedelta(hours=1)),
        (f"TID-{base}4", True, t + timedelta(hours=3)),
        (f"TID-{base}1", False, t - timedelta(minutes=5)),
    ]
    random.shuffle(plan)
    # A deadline learnt before its ticket is queued (the sla topic read first) is kept.
    early = f"TID-{base}4"
    await esc.deliver(started(early, 1, IN_TIER2 + timedelta(hours=2)))
    await esc.deliver(*(classified(tid, urgent=u, submitted_at=s) for tid, u, s in plan))
    expected = [f"TID-{base}5", f"TID-{base}4", f"TID-{base}1", f"TID-{base}9",
                f"TID-{base + 1}0", f"TID-{base}3"]  # fmt: skip
    assert [x["tid"] for x in await esc.queue("tier1")] == expected

    # Deadlines come from the sla-timer's events; time left is by the service clock.
    a, b, c = expected[0], expected[2], expected[3]
    due_a = IN_TIER2 + timedelta(hours=5)
    await esc.deliver(
        started(a, 1, IN_TIER2 + timedelta(hours=30)),
        started(b, 1, IN_TIER2 - timedelta(minutes=10)),
        started(c, 1, IN_TIER2 + timedelta(hours=1)),
        TargetChanged(
            tid=a, obligation_id=f"{a}/1", level="commercial", severity="high",
            old_deadline=IN_TIER2 + timedelta(hours=30), new_deadline=due_a,
            old_target_seconds=86400, new_target_seconds=3600, policy_version="2026.1",
            changed_at=IN_TIER2,
        ),
        ClockMet(tid=c, obligation_id=f"{c}/1", met_at=IN_TIER2, deadline=None,
                 elapsed_seconds=60),
    )  # fmt: skip
    esc.clock.set(IN_TIER2 + timedelta(hours=1))
    rows = {x["tid"]: x for x in await esc.queue("tier1")}
    assert rows[a]["deadline"] == iso(due_a) and rows[a]["time_left_seconds"] == 4 * 3600
    assert rows[b]["time_left_seconds"] == -70 * 60  # overdue: negative
    assert rows[c]["deadline"] is None and rows[c]["time_left_seconds"] is None
    assert rows[a]["level"] == "commercial" and rows[a]["severity"] == "medium"
    assert rows[a]["urgent"] is True
    assert rows[early]["deadline"] == iso(IN_TIER2 + timedelta(hours=2))
    assert rows[early]["time_left_seconds"] == 3600

    bad = await esc.http.get("/v1/queues/tier1", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]
    assert (await esc.http.get("/v1/queues/tier9")).status_code == 422


async def test_staff_escalation_refusal_and_development_hand_off(
    start_escalation: StartEscalation, keys: ApiKeys
) -> None:
    staff = {"X-Api-Key": keys.agent}  # a key made by intake's tidemark-keys code
    supervisor = {"X-Api-Key": keys.supervisor}  # development hand-offs need one
    esc = await start_escalation(IN_TIER2)
    vip, free, plain = new_tid(), new_tid(), new_tid()
    await esc.deliver(
        classified(vip, level="commercial_vip"),
        classified(free, level="non_commercial"),
        classified(plain, level="commercial", submitted_at=SUBMITTED),
    )
    body = {"to": "development", "reason": "a bug in the checkout module"}
    http = esc.http

    async def escalate(tid: str, json: dict[str, str], headers: dict[str, str]) -> Any:
        return await http.post(f"/v1/tickets/{tid}/escalate", json=json, headers=headers)

    assert (await escalate(vip, body, {"X-Api-Key": ""})).status_code == 401
    wrong = {"X-Api-Key": keys.web}  # a frontend key is no staff key
    assert (await escalate(vip, body, wrong)).status_code == 403
    agent_tries = await escalate(vip, body, staff)
    assert agent_tries.status_code == 403, agent_tries.text  # an agent may not hand off
    assert "supervisor" in agent_tries.json()["detail"]

    refused = await escalate(free, body, supervisor)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "non_commercial" in refused.json()["detail"]
    assert "development" in refused.json()["detail"]

    not_direct = await escalate(plain, body, supervisor)
    assert not_direct.status_code == 409 and "tier2" in not_direct.json()["detail"]
    r = await escalate(plain, {"to": "tier2", "reason": "hard"}, staff)
    assert r.status_code == 200, r.text
    assert (r.json()["from_queue"], r.json()["to_queue"]) == ("tier1", "tier2")

    esc.clock.set(IN_TIER2 + timedelta(minutes=30))
    handed = await escalate(vip, body, supervisor)
    assert handed.status_code == 200, handed.text
    assert handed.json()["rule"] == "staff:development-direct"
    assert (await escalate(vip, body, supervisor)).status_code == 409
    assert (await escalate(vip, {"to": "tier3", "reason": "x"}, staff)).status_code == 422
    assert (await escalate(new_tid(), body, supervisor)).status_code == 404

    assert [e["type"] for e in await esc.stream(free)] == ["ticket.queued"]  # refusal: nothing
    handoff = [e for e in await esc.stream(vip) if e["type"] == "ticket.escalated"]
    assert len(handoff) == 1
    event = handoff[0]
    assert (event["tid"], event["from_queue"], event["to_queue"]) == (vip, "tier1", "development")
    assert (event["level"], event["reason"], event["escalated_by"]) == (
        "commercial_vip", body["reason"], "test-supervisor",
    )  # fmt: skip
    assert event["escalated_at"] == iso(IN_TIER2 + timedelta(minutes=30))
    assert set((await esc.published(vip)).values()) == {1}
    # What the sla-timer starts from it: the development level's 14 days, 24x7.
    policy = load_policy()
    target = target_for(policy, "development", None)
    handed_at = IN_TIER2 + timedelta(minutes=30)
    assert add(target.calendar, handed_at, target.duration) == handed_at + timedelta(days=14)

    # The sla-timer's development obligation gives the development queue its next deadline.
    await esc.deliver(started(vip, 2, handed_at + timedelta(days=14), "development"))
    listed = (await http.get("/v1/queues")).json()
    summary = {q["queue"]: q for q in listed}
    dev = summary["development"]
    assert dev["waiting"] == 1 and dev["oldest"]["tid"] == vip
    assert dev["oldest"]["waiting_seconds"] == (handed_at - SUBMITTED).total_seconds()
    assert dev["next_deadline"] == {
        "tid": vip,
        "deadline": iso(handed_at + timedelta(days=14)),
        "time_left_seconds": 14 * 86400,
    }
    assert [q["queue"] for q in listed] == ["tier1", "tier2", "supervisor", "development"]
    assert summary["tier2"]["waiting"] == 1  # plain, escalated by the agent
    assert [t["tid"] for t in await esc.queue("development")] == [vip]
