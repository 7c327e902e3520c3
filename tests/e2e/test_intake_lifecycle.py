"""SPEC 2 over the real intake: messages, notes, status moves, rating, review, re-open;
illegal moves are 409 naming the status; simultaneous replies all land, in order."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from .conftest import System, poll
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


def _open_ticket(system: System) -> tuple[str, dict[str, str]]:
    with system.client("intake") as intake:
        r = intake.post("/v1/tickets", json=new_ticket(f"lc-{uuid.uuid4().hex[:8]}@example.com"))
        assert r.status_code == 201, r.text
        tid, token = r.json()["tid"], r.json()["access_token"]
        customer = {"Authorization": f"Bearer {token}"}
        poll(
            lambda: intake.get(f"/v1/tickets/{tid}", headers=customer).json()["status"],
            lambda s: s == "open",
        )  # classified by the classifier
    return tid, customer


def test_conversation_status_rating_and_reopen(system: System) -> None:
    tid, customer = _open_ticket(system)
    base = f"/v1/tickets/{tid}"
    with (
        system.client("intake", system.keys.agent) as staff,
        system.client("intake", key="") as anon,
    ):
        reply = staff.post(f"{base}/messages", json={"body": "Which PHP version?"})
        assert reply.status_code == 201 and reply.json()["events"] == ["ticket.staff_replied"]
        note = staff.post(
            f"{base}/messages", json={"body": "hoster is slow", "visibility": "internal"}
        )
        assert note.status_code == 201
        moved = staff.post(f"{base}/status", json={"status": "waiting_on_customer"})
        assert moved.json()["status"] == "waiting_on_customer"

        answer = anon.post(f"{base}/messages", json={"body": "PHP 8.3"}, headers=customer)
        assert answer.status_code == 201
        assert answer.json()["events"] == ["ticket.message_added", "ticket.status_changed"]
        assert answer.json()["status"] == "open"  # the customer answered: back to staff

        seen_by_customer = anon.get(base, headers=customer).json()["messages"]
        assert [m["body"] for m in seen_by_customer][-2:] == ["Which PHP version?", "PHP 8.3"]
        assert all(m["visibility"] == "public" for m in seen_by_customer)
        assert "hoster is slow" in [m["body"] for m in staff.get(base).json()["messages"]]
        assert not any(
            e["type"] == "ticket.staff_replied" and e["data"]["visibility"] == "internal"
            for e in anon.get(f"{base}/events", headers=customer).json()
        )

        early = anon.post(f"{base}/rating", json={"rating": 5}, headers=customer)
        assert early.status_code == 409
        assert early.json()["ticket_status"] == "open" and "open" in early.json()["detail"]
        assert staff.post(f"{base}/rating", json={"rating": 5}).status_code == 403
        assert (
            anon.post(f"{base}/status", json={"status": "resolved"}, headers=customer).status_code
            == 403
        )

        assert (
            staff.post(f"{base}/status", json={"status": "resolved"}).json()["status"] == "resolved"
        )
        illegal = staff.post(f"{base}/status", json={"status": "on_hold"})
        assert illegal.status_code == 409
        assert illegal.json()["allowed"] == ["closed"] and "resolved" in illegal.json()["detail"]
        rated = anon.post(f"{base}/rating", json={"rating": 4, "comment": "ok"}, headers=customer)
        assert rated.status_code == 200 and rated.json()["events"] == ["ticket.rated"]
        assert anon.post(f"{base}/rating", json={"rating": 1}, headers=customer).status_code == 409
        review = anon.post(f"{base}/supervisor-review", json={"reason": "slow"}, headers=customer)
        assert review.json()["events"] == ["ticket.supervisor_review_requested"]

        reopened = anon.post(f"{base}/reopen", headers=customer)
        assert reopened.status_code == 200 and reopened.json()["status"] == "open"
        closed = staff.post(
            f"{base}/status", json={"status": "closed", "close_reason": "duplicate"}
        )
        assert closed.json()["events"] == ["ticket.closed"]
        assert anon.get(base, headers=customer).json()["rating"] == 4


def test_simultaneous_replies_all_land_in_order(system: System) -> None:
    tid, _ = _open_ticket(system)
    url = f"{system.urls['intake']}/v1/tickets/{tid}/messages"
    agent = {"X-Api-Key": system.keys.agent}

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(client.post(url, json={"body": f"reply {n}"}, headers=agent) for n in range(12))
            )

    answers = asyncio.run(fire())
    assert [r.status_code for r in answers] == [201] * 12, [r.text for r in answers]
    versions = sorted(r.json()["version"] for r in answers)
    assert versions == list(range(versions[0], versions[0] + 12))  # one after the other
    with system.client("intake", system.keys.agent) as staff:
        events = staff.get(f"/v1/tickets/{tid}/events").json()
    replies = [e["data"]["body"] for e in events if e["type"] == "ticket.staff_replied"]
    assert sorted(replies) == sorted(f"reply {n}" for n in range(12))
    by_version = {r.json()["message_id"]: r.json()["version"] for r in answers}
    ids_in_history = [
        e["data"]["message_id"] for e in events if e["type"] == "ticket.staff_replied"
    ]
    assert [by_version[i] for i in ids_in_history] == sorted(by_version.values())
