"""An escalation process of its own per test: own database, own consumer group, manual clock.

The test plays the other services: it publishes their events (CloudEvents records built
with tidekit's envelope) onto their real topics, then reads escalation's answers from its
event store and from Kafka. Other processes of the session (an e2e system, say) may read
the same topics; assertions therefore follow this process's own event ids.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.e2e.kafka_reader import for_ticket, read_topics
from tests.fixtures.backends import create_fresh_database, drop_database
from tests.fixtures.system import System, poll, wait_ready
from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope

pytestmark = pytest.mark.integration

SOURCES = {
    "intake": "tidemark/intake",
    "classifier": "tidemark/classifier",
    "sla-timer": "tidemark/sla-timer",
}


def new_tid() -> str:
    return f"TID-{random.randrange(10**9, 10**12)}"


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


async def _send(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for env in envelopes:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records of `topics` the consumer group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        described = await admin.describe_topics(topics)
        parts = [
            TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
        ]
        ends = await consumer.end_offsets(parts)
        try:
            committed = await admin.list_consumer_group_offsets(group)
        except KafkaError:  # the group (or its coordinator) is not there yet
            return sum(ends.values()) + 1
        return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in parts)
    finally:
        await consumer.stop()
        await admin.close()


@dataclass
class Escalation:
    proc: Any
    database_url: str
    bootstrap: str
    group: str
    namespace: str  # its topic namespace: it sees only what the test publishes
    staff_key: str  # an admin's: the routes need a staff key, the test clock an admin's

    def topic(self, service: str) -> str:
        return self.namespace + TOPICS[service]

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the consumer has handled and committed everything published so far."""
        topics = [self.topic(s) for s in ("classifier", "sla-timer", "intake")]
        poll(
            lambda: asyncio.run(_lag(self.bootstrap, self.group, topics)), lambda n: n <= 0, timeout
        )

    def metric(self, name: str) -> float:
        with self.client() as c:
            text = c.get("/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and not line.startswith("#")
        )

    def client(self, anonymous: bool = False) -> httpx.Client:
        headers = {} if anonymous else {"X-Api-Key": self.staff_key}
        return httpx.Client(base_url=self.proc.url, timeout=10.0, headers=headers)

    def set_clock(self, instant: datetime) -> None:
        with self.client() as c:
            r = c.put("/v1/admin/clock", json={"now": iso(instant)})
            assert r.status_code == 200, r.text

    def publish(self, service: str, *events: DomainEvent) -> list[Envelope]:
        envelopes = [Envelope.wrap(e, source=SOURCES[service]) for e in events]
        self.redeliver(service, *envelopes)
        return envelopes

    def redeliver(self, service: str, *envelopes: Envelope) -> None:
        asyncio.run(_send(self.bootstrap, self.topic(service), list(envelopes)))

    def stream(self, tid: str) -> list[dict[str, Any]]:
        """This process's own events for `tid`, in order: {id, type, **data}."""
        rows = asyncio.run(
            _fetch(
                self.database_url,
                "SELECT event_id, event_type, data FROM escalation.events "
                "WHERE stream_id = $1 ORDER BY version",
                tid,
            )
        )
        return [
            {"id": str(r["event_id"]), "type": r["event_type"], **json.loads(r["data"])}
            for r in rows
        ]

    def wait_stream(
        self, tid: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 30
    ) -> list[dict[str, Any]]:
        return poll(lambda: self.stream(tid), until, timeout)

    def on_kafka(self, tid: str) -> dict[str, int]:
        """How many times each of this process's events for `tid` is on the escalation topic."""
        ours = {e["id"] for e in self.stream(tid)}
        seen = for_ticket(read_topics(self.bootstrap, [self.topic("escalation")]), tid)
        return {i: sum(1 for r in seen if r.id == i) for i in ours}

    def queue(self, name: str) -> list[dict[str, Any]]:
        """Every ticket of the queue, following the cursors (small pages on purpose)."""
        tickets: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 3}
        with self.client() as c:
            while True:
                r = c.get(f"/v1/queues/{name}", params=params)
                assert r.status_code == 200, r.text
                page = r.json()
                tickets += page["tickets"]
                if page["next_cursor"] is None:
                    return tickets
                params["cursor"] = page["next_cursor"]


@pytest.fixture
def start_escalation(
    service_launcher: Any, database_url: str, kafka_bootstrap: str, system: System
) -> Iterator[Callable[[datetime], Escalation]]:
    """start(now) -> an escalation process whose manual clock reads `now`; it checks staff
    keys with the session system's intake."""
    made: list[tuple[Escalation, str]] = []

    def start(now: datetime) -> Escalation:
        url = create_fresh_database(database_url, prefix="tidemark_esc")
        suffix = f"test-{uuid.uuid4().hex[:12]}"
        namespace = f"te{uuid.uuid4().hex[:8]}."
        env = {
            "TIDEMARK_DATABASE_URL": url,
            "TIDEMARK_ESCALATION_CLOCK": f"manual:{iso(now)}",
            "TIDEMARK_ESCALATION_CONSUMER_GROUP_SUFFIX": suffix,
            "TIDEMARK_ESCALATION_TOPIC_NAMESPACE": namespace,
            "TIDEMARK_INTAKE_URL": system.urls["intake"],
        }
        proc = service_launcher("escalation", extra_env=env, wait=True)
        wait_ready(proc.url)
        group = f"{namespace}tidemark.escalation.{suffix}"
        escalation = Escalation(proc, url, kafka_bootstrap, group, namespace, system.keys.admin)
        made.append((escalation, url))
        return escalation

    yield start
    for escalation, url in made:
        escalation.proc.kill()
        drop_database(database_url, url)
