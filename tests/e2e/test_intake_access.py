"""SPEC 3.4 over the real intake: API keys scoped to channels and roles, ticket tokens that
open one ticket only, hashed and revocable keys."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .conftest import System
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


def _create(system: System, key: str, channel: str = "web") -> dict[str, Any]:
    body = {**new_ticket(f"acc-{uuid.uuid4().hex[:8]}@example.com"), "channel": channel}
    with system.client("intake", key) as intake:
        r = intake.post("/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_no_key_and_unknown_key_are_401(system: System) -> None:
    url = system.urls["intake"]
    r = httpx.post(f"{url}/v1/tickets", json=new_ticket("nokey@example.com"))
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    assert r.headers["content-type"].startswith("application/problem+json")
    forged = {"X-Api-Key": f"tmk_{'a' * 12}_{'b' * 43}"}
    assert (
        httpx.post(
            f"{url}/v1/tickets", json=new_ticket("x@example.com"), headers=forged
        ).status_code
        == 401
    )
    assert httpx.get(f"{url}/v1/tickets/TID-1000").status_code == 401


def test_frontend_key_posts_only_on_its_channels(system: System) -> None:
    with system.client("intake", system.keys.chat) as chat:
        refused = chat.post("/v1/tickets", json={**new_ticket("c@example.com"), "channel": "web"})
        assert refused.status_code == 403
        assert "chat" in refused.json()["detail"]
        accepted = chat.post("/v1/tickets", json={**new_ticket("c@example.com"), "channel": "chat"})
        assert accepted.status_code == 201, accepted.text
    # A frontend key reads no ticket by itself: only the ticket's token or staff do.
    with system.client("intake", system.keys.chat) as chat:
        assert chat.get(f"/v1/tickets/{accepted.json()['tid']}").status_code == 404


def test_agent_cannot_do_admin_work_and_revoked_key_is_refused(system: System) -> None:
    with system.client("intake", system.keys.agent) as agent:
        assert agent.post("/v1/admin/keys", json={"name": "x", "role": "agent"}).status_code == 403
        assert agent.get("/v1/admin/keys").status_code == 403
    with system.client("intake", system.keys.admin) as admin:
        made = admin.post("/v1/admin/keys", json={"name": "kiosk", "channels": ["in_product"]})
        assert made.status_code == 201, made.text
        new_key, key_id = made.json()["key"], made.json()["key_id"]
        listed = admin.get("/v1/admin/keys").json()
        assert key_id in {k["key_id"] for k in listed}
        assert all(k["key"] is None for k in listed)  # the secret is shown once only
    _create(system, new_key, channel="in_product")
    with system.client("intake", system.keys.admin) as admin:
        assert admin.delete(f"/v1/admin/keys/{key_id}").status_code == 204
    with system.client("intake", new_key) as revoked:
        body = {**new_ticket("k@example.com"), "channel": "in_product"}
        assert revoked.post("/v1/tickets", json=body).status_code == 401


def test_ticket_token_opens_its_own_ticket_only_on_every_route(system: System) -> None:
    a = _create(system, system.keys.web)
    b = _create(system, system.keys.web)
    as_a = {"Authorization": f"Bearer {a['access_token']}"}
    url = f"{system.urls['intake']}/v1/tickets/{b['tid']}"
    credentials = {"entries": [{"kind": "ftp", "host": "h", "username": "u", "password": "p"}]}
    attempts = [
        ("GET", "", None),
        ("GET", "/events", None),
        ("POST", "/messages", {"body": "hello"}),
        ("POST", "/status", {"status": "on_hold"}),
        ("POST", "/reopen", None),
        ("POST", "/rating", {"rating": 5}),
        ("POST", "/supervisor-review", {"reason": "x"}),
        ("POST", "/credentials", credentials),
        ("GET", "/credentials", None),
    ]
    for method, path, body in attempts:
        r = httpx.request(method, url + path, json=body, headers=as_a)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        # ...and exactly what a TID that does not exist answers: no existence leak.
        missing = httpx.request(
            method, url.replace(b["tid"], "TID-999999999") + path, json=body, headers=as_a
        )
        assert (missing.status_code, missing.json()["detail"]) == (404, r.json()["detail"])
    own = httpx.get(f"{system.urls['intake']}/v1/tickets/{a['tid']}", headers=as_a)
    assert own.status_code == 200 and own.json()["tid"] == a["tid"]
