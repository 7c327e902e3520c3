"""SPEC 3.1 credentials: stored encrypted, shown to staff only, destroyed on resolution with a
reminder event, and the secret itself never reaches Kafka, any Postgres table, or a log;
nor do API keys, ticket access tokens or intake's token secret (SPEC 3.4: keys and tokens
are stored hashed; secrets never reach Kafka, logs, metrics or events)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from .conftest import System, poll
from .kafka_reader import all_topics, for_ticket, read_topics
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


async def _rows_containing(database_url: str, needle: str) -> list[str]:
    """Every table of every Tidemark schema whose rows, as text, contain `needle`."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        )
        hits = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            found = await conn.fetchval(
                f"SELECT count(*) FROM {name} AS r WHERE r::text LIKE '%' || $1 || '%'", needle
            )
            if found:
                hits.append(name)
        return hits
    finally:
        await conn.close()


def test_secret_is_sealed_shown_to_staff_destroyed_and_never_leaks(
    system: System, kafka_bootstrap: str, database_url: str
) -> None:
    password = f"planted-{secrets.token_hex(12)}"
    with system.client("intake") as intake:
        created = intake.post(
            "/v1/tickets", json=new_ticket(f"v-{uuid.uuid4().hex[:6]}@example.com")
        )
    tid, token = created.json()["tid"], created.json()["access_token"]
    customer = {"Authorization": f"Bearer {token}"}
    base = f"/v1/tickets/{tid}"
    entry = {"kind": "ssh", "host": "shop.example.com", "username": "deploy", "password": password}

    with (
        system.client("intake", key="") as anon,
        system.client("intake", system.keys.agent) as agent,
    ):
        stored = anon.post(f"{base}/credentials", json={"entries": [entry]}, headers=customer)
        assert stored.status_code == 201, stored.text
        ref = stored.json()["credentials_ref"]
        assert password not in stored.text
        assert anon.get(f"{base}/credentials", headers=customer).status_code == 403
        with system.client("intake", system.keys.all_channels) as frontend:
            assert frontend.get(f"{base}/credentials").status_code == 404
        shown = agent.get(f"{base}/credentials")
        assert shown.status_code == 200
        assert shown.json()[0]["entries"][0]["password"] == password

        poll(lambda: anon.get(base, headers=customer).json()["status"], lambda s: s == "open")
        resolved = agent.post(f"{base}/status", json={"status": "resolved"})
        assert resolved.json()["events"] == ["ticket.resolved", "ticket.credentials_destroyed"]
        assert agent.get(f"{base}/credentials").json() == []  # the row is gone

    records = poll(
        lambda: for_ticket(read_topics(kafka_bootstrap, all_topics(kafka_bootstrap)), tid),
        lambda rs: any(r.type == "ticket.credentials_destroyed" for r in rs),
    )
    stored_events = [r for r in records if r.type == "ticket.credentials_stored"]
    assert len(stored_events) == 1 and ref.encode() in stored_events[0].value

    everything = read_topics(kafka_bootstrap, all_topics(kafka_bootstrap))
    leaks = [
        r.topic
        for r in everything
        if password.encode() in r.value or any(password in v for v in r.headers.values())
    ]
    assert leaks == []
    assert asyncio.run(_rows_containing(database_url, password)) == []
    logs = [Path(p.log_file) for p in system.processes.values()]
    assert all(log.exists() for log in logs)
    assert [str(log) for log in logs if password in log.read_text(errors="replace")] == []


def _leaks(system: System, kafka_bootstrap: str, database_url: str, secret: str) -> list[str]:
    """Where `secret` shows: Kafka records (values and headers) of every topic, rows of
    every table, the services' logs, and their /metrics."""
    found = [
        f"kafka {r.topic}"
        for r in read_topics(kafka_bootstrap, all_topics(kafka_bootstrap))
        if secret.encode() in r.value or any(secret in v for v in r.headers.values())
    ]
    found += [f"table {t}" for t in asyncio.run(_rows_containing(database_url, secret))]
    for name, process in system.processes.items():
        if secret in Path(process.log_file).read_text(errors="replace"):
            found.append(f"log of {name}")
        if secret in httpx.get(f"{system.urls[name]}/metrics", timeout=10).text:
            found.append(f"metrics of {name}")
    return found


def test_keys_tokens_and_the_token_secret_never_leak(
    system: System, kafka_bootstrap: str, database_url: str
) -> None:
    keys = system.keys
    # Use every kind of key and a ticket token, so each passes through every code path
    # that could log or record it (key checks here and by introspection elsewhere).
    with system.client("intake", keys.web) as intake:
        created = intake.post("/v1/tickets", json=new_ticket(f"k-{uuid.uuid4().hex[:6]}@e.com"))
    assert created.status_code == 201, created.text
    tid, token = created.json()["tid"], created.json()["access_token"]
    with system.client("intake", "") as anon:
        anon.get(f"/v1/tickets/{tid}", headers={"Authorization": f"Bearer {token}"})
        anon.get(f"/v1/tickets/{tid}", headers={"Authorization": "Bearer wrong-token"})
    for key in (keys.agent, keys.supervisor, keys.admin, keys.web):
        for service in ("classifier", "sla-timer", "notifier", "escalation"):
            with system.client(service, key) as client:
                client.get("/v1/queues" if service == "escalation" else "/v1/policy")
    httpx.post(f"{system.urls['intake']}/v1/introspect", json={"key": keys.agent},
               headers={"X-Api-Key": keys.service}, timeout=10)  # fmt: skip
    planted = {
        "web key": keys.web, "agent key": keys.agent, "supervisor key": keys.supervisor,
        "admin key": keys.admin, "service key": keys.service, "access token": token,
        "token secret": system.token_secret,
    }  # fmt: skip
    found = {what: _leaks(system, kafka_bootstrap, database_url, s) for what, s in planted.items()}
    assert {what: where for what, where in found.items() if where} == {}
