"""`ticket.submitted` in, `ticket.classified` (with reasons) out, through the real service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from .conftest import STAFF, aput_license, envelope, events_of, send, ticket, wait_classified

pytestmark = pytest.mark.integration


async def test_each_ticket_is_classified_with_its_reasons(
    api: httpx.AsyncClient, db: asyncpg.Connection, intake_producer: AIOKafkaProducer
) -> None:
    key, email = f"LIC-{uuid.uuid4().hex[:8]}", f"ada-{uuid.uuid4().hex[:6]}@example.com"
    old_key = f"LIC-{uuid.uuid4().hex[:8]}"
    assert (await aput_license(api, key, edition="business", emails=[email])).status_code == 201
    long_ago = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()
    await aput_license(api, old_key, edition="business", emails=[email], purchase_date=long_ago)
    hacked = ticket(
        email, key, subject="Our shop was hacked", body="Spam pages everywhere.", hint="low"
    )
    custom = ticket(
        email, key, subject="Quote", body="Can you write a custom module for our ERP export?"
    )
    stranger = ticket("eve@example.com", key, body="The site is down!", hint="critical")
    expired = ticket(email, old_key, body="The installer stops at step 3", hint="medium")
    cases = [hacked, custom, stranger, expired]
    await send(intake_producer, [envelope(t) for t in cases])
    rows = {r["tid"]: r for r in await wait_classified(db, [t.tid for t in cases])}

    got = (await api.get(f"/v1/tickets/{hacked.tid}/classification", headers=STAFF)).json()
    assert (got["level"], got["severity"], got["category"]) == (
        "commercial",
        "critical",
        "security",
    )
    assert got["urgent"] is True and got["in_scope"] is True and got["entitlement"] == "active"
    assert any("site-down" in r and "hacked" in r for r in got["reasons"]), got["reasons"]
    assert any(r.startswith("urgent") for r in got["reasons"])

    assert rows[custom.tid]["level"] == "non_product" and not rows[custom.tid]["in_scope"]
    assert rows[custom.tid]["severity"] is None
    assert (rows[stranger.tid]["level"], rows[stranger.tid]["entitlement"]) == (
        "non_commercial",
        "unregistered_sender",
    )
    assert rows[stranger.tid]["severity"] is None  # severity only for commercial levels
    assert rows[expired.tid]["entitlement"] == "expired"

    # The emitted event carries the same decision and reasons, caused by the submission.
    stored = await events_of(db, [hacked.tid])
    assert [e["type"] for e in stored] == ["ticket.classified"]
    assert stored[0]["reasons"] == got["reasons"] and stored[0]["rules_version"]
    renew = await events_of(db, [expired.tid])
    assert any("renew" in r for r in renew[0]["reasons"])


async def test_staff_reclassify_emits_ticket_reclassified(
    api: httpx.AsyncClient, db: asyncpg.Connection, intake_producer: AIOKafkaProducer
) -> None:
    key, email = f"LIC-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:6]}@example.com"
    await aput_license(api, key, edition="standard", emails=[email])
    t = ticket(email, key, body="A typo on the invoice page", hint="low")
    await send(intake_producer, [envelope(t)])
    await wait_classified(db, [t.tid])
    url = f"/v1/tickets/{t.tid}/reclassify"

    r = await api.post(url, json={"severity": "high", "reason": "blocks invoicing"}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert (r.json()["level"], r.json()["severity"]) == ("commercial", "high")
    assert any("staff override by test-agent" in x for x in r.json()["reasons"])
    again = await api.post(url, json={"severity": "high", "reason": "still"}, headers=STAFF)
    assert again.status_code == 200  # nothing changes: no second event
    refused = await api.post(
        url,
        json={"level": "non_commercial", "severity": "low", "reason": "x"},
        headers=STAFF,
    )
    assert refused.status_code == 422 and "severity" in refused.json()["detail"]
    down = await api.post(url, json={"level": "non_product", "reason": "hosting"}, headers=STAFF)
    assert (down.json()["level"], down.json()["severity"]) == ("non_product", None)
    unknown = await api.post(
        "/v1/tickets/TID-1/reclassify", json={"level": "partner", "reason": "x"}, headers=STAFF
    )
    assert unknown.status_code == 404
    assert (await api.post(url, json={"reason": "nothing"}, headers=STAFF)).status_code == 422

    stored = [e for e in await events_of(db, [t.tid]) if e["type"] == "ticket.reclassified"]
    assert [(e["previous_severity"], e["severity"], e["level"]) for e in stored] == [
        ("low", "high", "commercial"),
        ("high", None, "non_product"),
    ]
    assert all(e["reasons"] and e["reclassified_by"] == "test-agent" for e in stored)
