"""The customer directory over HTTP: staff only (keys checked by intake's real app), each
change a `license.recorded` event in the outbox for the classifier's topic."""

from __future__ import annotations

from typing import Any

from tests.fixtures.access import ApiKeys
from tidekit.events import TOPICS

from .conftest import Classifier, new_key


async def test_directory_routes_refuse_anyone_without_a_staff_key(
    classifier: Classifier, keys: ApiKeys
) -> None:
    key, http, staff = new_key(), classifier.bare, ApiKeys.header(keys.agent)
    body = {"edition": "business", "owner": "X", "purchase_date": "2026-01-01"}
    for headers in ({}, {"X-Api-Key": "wrong"}, {"Authorization": f"Bearer {keys.agent}"}):
        r = await http.put(f"/v1/licenses/{key}", json=body, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("ApiKey")
        assert (await http.get(f"/v1/licenses/{key}", headers=headers)).status_code == 401
        got = await http.get("/v1/tickets/TID-1/classification", headers=headers)
        assert got.status_code == 401
        r = await http.post("/v1/tickets/TID-1/reclassify", json={"reason": "x"}, headers=headers)
        assert r.status_code == 401
    # A frontend key is a key, but not a staff member's.
    web = ApiKeys.header(keys.web)
    assert (await http.put(f"/v1/licenses/{key}", json=body, headers=web)).status_code == 403
    assert (await http.get(f"/v1/licenses/{key}", headers=staff)).status_code == 404  # none
    assert (await http.get("/v1/policy")).status_code == 401  # every route needs a key
    policy = await http.get("/v1/policy", headers=staff)
    assert policy.status_code == 200
    assert policy.json()["version"] and policy.json()["classification_rules"]["version"]


async def test_changes_are_events_on_the_classifier_topic(classifier: Classifier) -> None:
    key = new_key()
    first = await classifier.put_license(key, edition="premium", emails=["Ada@Example.com"])
    assert first.status_code == 201, first.text
    assert first.json()["emails"] == ["ada@example.com"]
    again = await classifier.put_license(key, edition="premium", emails=["ada@example.com"])
    assert again.status_code == 200  # the same license again: no change, no event
    changed = await classifier.put_license(
        key, edition="ultimate", emails=["ada@example.com"], partner=True
    )
    assert changed.status_code == 200 and changed.json()["edition"] == "ultimate"
    got = (await classifier.http.get(f"/v1/licenses/{key}")).json()
    assert got["partner"] is True and got["license_key"] == key
    stream = f"license/{key}"
    stored = await classifier.events(stream)
    assert [(e["type"], e["change"], e["edition"]) for e in stored] == [
        ("license.recorded", "registered", "premium"),
        ("license.recorded", "updated", "ultimate"),
    ]
    assert {e["recorded_by"] for e in stored} == {"test-agent"}
    # Both wait in the outbox for the relay, bound for the classifier's topic.
    assert (
        await classifier.outbox_of(stream)
        == [(TOPICS["classifier"], "license.recorded", stream)] * 2
    )


async def test_bad_licenses_are_a_clear_422(classifier: Classifier) -> None:
    key = new_key()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"edition": "gold"}, "edition"),
        ({"edition": "start", "emails": ["not-an-address"]}, "emails"),
        (
            {"edition": "start", "purchase_date": "2026-05-01", "support_end": "2026-01-01"},
            "before",
        ),
        ({"edition": "start", "coupon_allowance": -1}, "coupon_allowance"),
    ]
    for bad, word in cases:
        r = await classifier.put_license(key, **bad)
        assert r.status_code == 422, r.text
        assert word in r.text
    r = await classifier.http.put("/v1/licenses/bad key!", json={})
    assert r.status_code in (404, 422)
    assert (await classifier.http.get(f"/v1/licenses/{key}")).status_code == 404
    assert await classifier.events(f"license/{key}") == []
