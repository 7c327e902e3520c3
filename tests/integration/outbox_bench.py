"""A service-like bench for the outbox, the relay and the consumer: a schema of its own
(event store, outbox, inbox, consumed events), its own topic and DLQ on the real Kafka.
The fixture is `bench` (tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tidekit.clock import SystemClock
from tidekit.events import dlq_topic, registry
from tidekit.events.intake import TicketRated
from tidekit.kafka.clients import ensure_topics, idempotent_producer
from tidekit.kafka.relay import OutboxRelay
from tidekit.store.consumed import CONSUMED_MIGRATIONS
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations


@dataclass
class Bench:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    store: EventStore
    topic: str
    schema: str
    database_url: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def relay(self) -> OutboxRelay:
        """A relay of the bench's outbox, on a connection of its own (as a service's)."""
        return OutboxRelay(self.connect, self.producer, schema=self.schema)

    async def connect(self) -> asyncpg.Connection:
        """A connection of its own in the bench's schema."""
        conn: asyncpg.Connection = await asyncpg.connect(
            self.database_url, server_settings={"search_path": self.schema}
        )
        return conn

    async def publish(self) -> int:
        """Everything committed to the outbox, out to Kafka; the relay lets go after."""
        return await self.relay().flush()


@contextlib.asynccontextmanager
async def _connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def append(b: Bench, tid: str, stars: int) -> str:
    async with b.pool.acquire() as conn, conn.transaction():
        version = await b.store.stream_version(conn, tid)
        envs = await b.store.append(
            conn, tid, version, [TicketRated(tid=tid, rating=stars, rated_at=datetime.now(UTC))]
        )
    return envs[0].id


@contextlib.asynccontextmanager
async def open_bench(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Bench]:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    topic = f"test.{schema}.v1"
    async with _connect(database_url) as conn:
        await apply_migrations(conn, schema, [CORE_MIGRATIONS, CONSUMED_MIGRATIONS])
    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": schema})
    await ensure_topics(kafka_bootstrap, [topic, dlq_topic(topic)], partitions=2)
    producer = idempotent_producer(kafka_bootstrap, "test")
    await producer.start()
    b = Bench(
        pool,
        producer,
        EventStore(source="tidemark/test", topic=topic, registry=registry, clock=SystemClock()),
        topic,
        schema,
        database_url,
    )
    try:
        yield b
    finally:
        for task in b.tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await producer.stop()
        await pool.close()


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 20.0) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex}",
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    records.extend(recs)
    finally:
        await consumer.stop()
    return records


async def record_count(bootstrap: str, topic: str) -> int:
    """How many records `topic` holds (its partitions' end offsets: nothing is compacted)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)  # subscribed: metadata
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        assert partitions, f"no topic {topic}"
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
