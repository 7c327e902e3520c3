"""Rotating intake's token secret and vault key without downtime: an intake restarted with
a new secret (the old one listed as previous) still replays old tickets' tokens, and
credentials sealed under the old vault key still open while new ones use the new key."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import isolate_ticket_ids, make_keys
from tests.fixtures.backends import create_fresh_database
from tests.fixtures.system import poll

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ticket(email: str) -> dict[str, Any]:
    return {
        "channel": "web",
        "requester": {"email": email, "name": "Rota"},
        "subject": "Rotation",
        "body": "Please keep my token working.",
    }


def database_ready(url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/readyz", timeout=2).json()["checks"]["database"])
    except (httpx.HTTPError, ValueError, KeyError):
        return False


def vault_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def key_ids_in_vault(database_url: str) -> list[str]:
    async def fetch() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch("SELECT key_id FROM intake.credentials ORDER BY stored_at")
            return [r["key_id"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_token_secret_and_vault_key_rotate_without_downtime(
    service_launcher: Any, database_url: str
) -> None:
    db = create_fresh_database(database_url, prefix="tidemark_rotation")
    isolate_ticket_ids(db)
    keys = asyncio.run(make_keys(db))
    old_secret, new_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    old_vault, new_vault = vault_key(), vault_key()
    base = {  # no Kafka: this is about Postgres state only, and no other test sees it
        "TIDEMARK_DATABASE_URL": db,
        "TIDEMARK_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}",
        "TIDEMARK_TOPIC_NAMESPACE": f"rot{uuid.uuid4().hex[:8]}.",
    }

    def intake(**settings: str) -> Any:
        env = {**base, **{f"TIDEMARK_INTAKE_{k.upper()}": v for k, v in settings.items()}}
        proc = service_launcher("intake", extra_env=env)
        # Not /readyz: it wants Kafka too, and these routes need only Postgres.
        poll(lambda: database_ready(proc.url), bool, timeout=60)
        return proc

    # Before: secret A, vault key k1. A ticket with an Idempotency-Key, and credentials.
    before = intake(
        token_secret=old_secret, vault_keys=f'{{"k1": "{old_vault}"}}', vault_active_key="k1"
    )
    frontend = {"X-Api-Key": keys.web, "Idempotency-Key": "rotation-1"}
    body = ticket("rota@example.com")
    first = httpx.post(f"{before.url}/v1/tickets", json=body, headers=frontend, timeout=10)
    assert first.status_code == 201, first.text
    tid, token = first.json()["tid"], first.json()["access_token"]
    customer = {"Authorization": f"Bearer {token}"}
    stored = httpx.post(
        f"{before.url}/v1/tickets/{tid}/credentials",
        json={"entries": [{"kind": "ftp", "host": "h", "username": "u", "password": "old-pw"}]},
        headers=customer, timeout=10,
    )  # fmt: skip
    assert stored.status_code in (200, 201), stored.text
    before.terminate()

    # During the rotation window: secret B with A as previous; vault keys k1 and k2, k2 active.
    during = intake(
        token_secret=new_secret,
        token_secret_previous=f'["{old_secret}"]',
        vault_keys=f'{{"k1": "{old_vault}", "k2": "{new_vault}"}}',
        vault_active_key="k2",
    )
    replay = httpx.post(f"{during.url}/v1/tickets", json=body, headers=frontend, timeout=10)
    assert replay.status_code == 200, replay.text
    assert replay.json()["access_token"] == token  # the same token, made under secret A
    assert httpx.get(f"{during.url}/v1/tickets/{tid}", headers=customer).status_code == 200
    httpx.post(
        f"{during.url}/v1/tickets/{tid}/credentials",
        json={"entries": [{"kind": "ssh", "host": "h", "username": "u", "password": "new-pw"}]},
        headers=customer, timeout=10,
    ).raise_for_status()  # fmt: skip
    shown = httpx.get(
        f"{during.url}/v1/tickets/{tid}/credentials", headers={"X-Api-Key": keys.agent}
    )
    assert shown.status_code == 200, shown.text
    passwords = sorted(e["password"] for c in shown.json() for e in c["entries"])
    assert passwords == ["new-pw", "old-pw"]  # the old key still opens what it sealed
    assert key_ids_in_vault(db) == ["k1", "k2"]  # new secrets are sealed with the new key
    during.terminate()

    # After the window: A is gone. Its token still opens the ticket (tokens are checked by
    # their stored hash), but a replay can no longer show it, and says so.
    after = intake(
        token_secret=new_secret,
        vault_keys=f'{{"k1": "{old_vault}", "k2": "{new_vault}"}}',
        vault_active_key="k2",
    )
    assert httpx.get(f"{after.url}/v1/tickets/{tid}", headers=customer).status_code == 200
    late = httpx.post(f"{after.url}/v1/tickets", json=body, headers=frontend, timeout=10)
    assert late.status_code == 409 and "retired" in late.json()["detail"], late.text
    after.terminate()
