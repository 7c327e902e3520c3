"""A 201 is durable: the event reaches Kafka after a SIGKILL; outages answer 503 and heal."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import isolate_ticket_ids, make_keys
from tests.fixtures.backends import create_fresh_database
from tidekit.events import TOPICS

from .conftest import System, poll, wait_ready
from .kafka_reader import for_ticket, read_topics
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outbox_unpublished(database_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM intake.outbox WHERE published_at IS NULL")
            )
        finally:
            await conn.close()

    return asyncio.run(count())


def test_event_reaches_kafka_exactly_once_after_sigkill_right_after_201(
    service_launcher: Any, database_url: str, kafka_bootstrap: str
) -> None:
    # An intake of its own (own database) whose Kafka is unreachable: the 201 can only
    # come from Postgres, and the outbox row is certainly unpublished when we kill it.
    db = create_fresh_database(database_url, prefix="tidemark_kill")
    isolate_ticket_ids(db)
    key = {"X-Api-Key": asyncio.run(make_keys(db)).web}
    email = f"kill-{uuid.uuid4().hex[:8]}@example.com"
    cut_off = service_launcher(
        "intake",
        extra_env={
            "TIDEMARK_DATABASE_URL": db,
            "TIDEMARK_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}",
        },
    )
    poll(lambda: _healthy(cut_off.url), bool)
    created = poll(
        lambda: httpx.post(
            f"{cut_off.url}/v1/tickets", json=new_ticket(email), headers=key, timeout=5
        ),
        lambda r: r.status_code == 201,
    ).json()
    cut_off.kill()  # SIGKILL: no shutdown hooks, no flush
    assert outbox_unpublished(db) == 1

    restarted = service_launcher("intake", extra_env={"TIDEMARK_DATABASE_URL": db})
    wait_ready(restarted.url)

    def ours() -> list[Any]:
        # The TID sequence restarts per database, so find this submission by its sender.
        records = for_ticket(read_topics(kafka_bootstrap, [TOPICS["intake"]]), created["tid"])
        return [r for r in records if r.type == "ticket.submitted" and email.encode() in r.value]

    assert len(poll(ours, lambda rs: len(rs) > 0)) == 1
    poll(lambda: outbox_unpublished(db), lambda n: n == 0)
    restarted.terminate()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_postgres_outage_answers_503_with_retry_after_then_recovers(
    system: System, postgres_control: Any
) -> None:
    intake = system.urls["intake"]
    key = {"X-Api-Key": system.keys.web}
    postgres_control.stop()
    try:
        down = httpx.post(
            f"{intake}/v1/tickets", json=new_ticket("outage@example.com"), headers=key, timeout=15
        )
        assert down.status_code == 503, down.text
        assert int(down.headers["Retry-After"]) > 0
        assert down.headers["content-type"].startswith("application/problem+json")
        ready = httpx.get(f"{intake}/readyz", timeout=15)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
    finally:
        postgres_control.start()
    recovered = poll(
        lambda: httpx.post(
            f"{intake}/v1/tickets", json=new_ticket("outage@example.com"), headers=key, timeout=15
        ),
        lambda r: r.status_code == 201,
        timeout=60,
    )
    assert recovered.json()["tid"].startswith("TID-")
    for url in system.urls.values():
        wait_ready(url)
