"""A real classifier process against the session's Kafka and Postgres, and helpers to feed
it `ticket.submitted` records as intake would and to read what it decided."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures.access import ApiKeys
from tests.fixtures.system import System
from tidekit.events import TOPICS
from tidekit.events.envelope import Envelope
from tidekit.events.intake import Product, Requester, TicketSubmitted
from tidekit.kafka.clients import ensure_topics

# Filled with an agent key made by intake's key store once the session's system is up.
STAFF: dict[str, str] = {}


@pytest.fixture(scope="session")
def classifier_url(service_launcher: Any, system: System, api_keys: ApiKeys) -> str:
    """A classifier process of its own (a replica of the system's: same database and group)
    that asks the system's intake about staff keys."""
    STAFF["X-Api-Key"] = api_keys.agent
    proc = service_launcher("classifier", {"TIDEMARK_INTAKE_URL": system.urls["intake"]})
    proc.wait_healthy()
    deadline = time.monotonic() + 60
    while httpx.get(f"{proc.url}/readyz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "classifier not ready"
        time.sleep(0.2)
    return str(proc.url)


@pytest.fixture
def http(classifier_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=classifier_url, timeout=10) as client:
        yield client


@pytest.fixture
async def api(classifier_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=classifier_url, timeout=10) as client:
        yield client


@pytest.fixture
async def db(database_url: str, classifier_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "classifier"})
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def intake_producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap, [TOPICS["intake"]], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


def new_tid() -> str:
    """A TID far above intake's sequence, so tests never meet real tickets."""
    return f"TID-{random.randrange(10**12, 10**13)}"


def ticket(
    email: str,
    license_key: str | None,
    *,
    subject: str = "Question about the product",
    body: str = "How do I change the logo in the header?",
    hint: str | None = None,
    vip: bool = False,
) -> TicketSubmitted:
    return TicketSubmitted(
        tid=new_tid(),
        channel="web",
        requester=Requester(email=email, name="Test"),
        license_key=license_key,
        subject=subject,
        body=body,
        product=Product(),
        severity_hint=hint,  # type: ignore[arg-type]
        vip_coupon=vip,
        submitted_at=datetime.now(UTC),
    )


def envelope(event: TicketSubmitted) -> Envelope:
    return Envelope.wrap(event, source="tidemark/intake")


async def send(producer: AIOKafkaProducer, envelopes: list[Envelope], namespace: str = "") -> None:
    """All at once, as a burst of submissions would arrive (on intake's topic in the topic
    namespace given: a classifier of its own reads only its namespace)."""
    futures = []
    for env in envelopes:
        key, value, headers = env.to_kafka()
        topic = namespace + TOPICS["intake"]
        futures.append(await producer.send(topic, value, key=key, headers=headers))
    await producer.flush()
    for f in futures:
        await f


async def wait_classified(
    db: asyncpg.Connection, tids: list[str], timeout: float = 30.0
) -> list[asyncpg.Record]:
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        rows = await db.fetch("SELECT * FROM classifications WHERE tid = ANY($1)", tids)
        if len(rows) == len(tids):
            return rows
        assert time.monotonic() < deadline, f"{len(rows)} of {len(tids)} classified"
        await asyncio.sleep(0.1)


async def events_of(db: asyncpg.Connection, stream_ids: list[str]) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = ANY($1) "
        "ORDER BY position",
        stream_ids,
    )
    return [
        {"stream": r["stream_id"], "type": r["event_type"], **json.loads(r["data"])} for r in rows
    ]


def license_body(**fields: Any) -> dict[str, Any]:
    body = {"owner": "Hopper Ltd", "purchase_date": datetime.now(UTC).date().isoformat()}
    return {**body, **fields}


def put_license(http: httpx.Client, key: str, **fields: Any) -> httpx.Response:
    return http.put(f"/v1/licenses/{key}", json=license_body(**fields), headers=STAFF)


async def aput_license(api: httpx.AsyncClient, key: str, **fields: Any) -> httpx.Response:
    return await api.put(f"/v1/licenses/{key}", json=license_body(**fields), headers=STAFF)
