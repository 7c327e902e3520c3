"""The customer directory over HTTP: staff only, changes as `license.recorded` on Kafka."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from tests.e2e.kafka_reader import read_topics
from tidekit.events import TOPICS

from .conftest import STAFF, aput_license, events_of, put_license

pytestmark = pytest.mark.integration


def test_directory_routes_refuse_anyone_without_a_staff_key(http: httpx.Client) -> None:
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    body = {"edition": "business", "owner": "X", "purchase_date": "2026-01-01"}
    for headers in ({}, {"X-Api-Key": "wrong"}, {"Authorization": f"Bearer {STAFF['X-Api-Key']}"}):
        r = http.put(f"/v1/licenses/{key}", json=body, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("ApiKey")
        assert http.get(f"/v1/licenses/{key}", headers=headers).status_code == 401
        assert http.get("/v1/tickets/TID-1/classification", headers=headers).status_code == 401
        r = http.post("/v1/tickets/TID-1/reclassify", json={"reason": "x"}, headers=headers)
        assert r.status_code == 401
    assert http.get(f"/v1/licenses/{key}", headers=STAFF).status_code == 404  # nothing stored
    assert http.get("/v1/policy").status_code == 401  # every route needs a key (SPEC 3.4)
    policy = http.get("/v1/policy", headers=STAFF)
    assert policy.status_code == 200
    assert policy.json()["version"] and policy.json()["classification_rules"]["version"]


async def test_changes_are_events_on_the_classifier_topic(
    api: httpx.AsyncClient, db: asyncpg.Connection, kafka_bootstrap: str
) -> None:
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    first = await aput_license(api, key, edition="premium", emails=["Ada@Example.com"])
    assert first.status_code == 201, first.text
    assert first.json()["emails"] == ["ada@example.com"]
    again = await aput_license(api, key, edition="premium", emails=["ada@example.com"])
    assert again.status_code == 200  # the same license again: no change, no event
    changed = await aput_license(
        api, key, edition="ultimate", emails=["ada@example.com"], partner=True
    )
    assert changed.status_code == 200 and changed.json()["edition"] == "ultimate"
    got = (await api.get(f"/v1/licenses/{key}", headers=STAFF)).json()
    assert got["partner"] is True and got["license_key"] == key
    stream = f"license/{key}"
    stored = await events_of(db, [stream])
    assert [(e["type"], e["change"], e["edition"]) for e in stored] == [
        ("license.recorded", "registered", "premium"),
        ("license.recorded", "updated", "ultimate"),
    ]
    assert {e["recorded_by"] for e in stored} == {"test-agent"}
    for _ in range(100):  # the relay publishes them
        records = [
            r
            for r in await asyncio.to_thread(read_topics, kafka_bootstrap, [TOPICS["classifier"]])
            if r.headers.get("ce_subject") == stream
        ]
        if len(records) == 2:
            break
        await asyncio.sleep(0.2)
    assert [r.type for r in records] == ["license.recorded", "license.recorded"]


def test_bad_licenses_are_a_clear_422(http: httpx.Client) -> None:
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    for bad, word in [
        ({"edition": "gold"}, "edition"),
        ({"edition": "start", "emails": ["not-an-address"]}, "emails"),
        (
            {"edition": "start", "purchase_date": "2026-05-01", "support_end": "2026-01-01"},
            "before",
        ),
        ({"edition": "start", "coupon_allowance": -1}, "coupon_allowance"),
    ]:
        r = put_license(http, key, **bad)
        assert r.status_code == 422, r.text
        assert word in r.text
    assert http.put("/v1/licenses/bad key!", json={}, headers=STAFF).status_code in (404, 422)
    assert http.get(f"/v1/licenses/{key}", headers=STAFF).status_code == 404
