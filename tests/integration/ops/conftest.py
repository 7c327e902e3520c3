"""A service-like bench for tidemark-ops: its own schema (event store, outbox, inbox), its
own topic and DLQ on the real Kafka, and the operator tool's settings pointed at them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from tidekit.clock import SystemClock
from tidekit.events import dlq_topic, registry
from tidekit.events.intake import TicketRated
from tidekit.kafka.clients import ensure_topics, idempotent_producer
from tidekit.kafka.relay import OutboxRelay
from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations


@dataclass
class OpsBench:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    store: EventStore
    topic: str
    schema: str
    settings: OpsSettings
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def append(self, tid: str, stars: int) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            version = await self.store.stream_version(conn, tid)
            rated = TicketRated(tid=tid, rating=stars, rated_at=datetime.now(UTC))
            (env,) = await self.store.append(conn, tid, version, [rated])
        return env.id

    async def publish(self) -> None:
        relay = OutboxRelay(
            lambda: asyncpg.connect(
                self.settings.database_url, server_settings={"search_path": self.schema}
            ),
            self.producer,
            schema=self.schema,
        )
        await relay.flush()  # all of it out, batch after batch

    async def ops(self, *argv: str) -> tuple[int, str]:
        """Run `tidemark-ops ARGV` in process: (exit status, stdout + stderr)."""
        out = io.StringIO()
        code = await run(list(argv), self.settings, out=out, err=out)
        return code, out.getvalue()


@pytest.fixture
async def ops_bench(database_url: str, kafka_bootstrap: str) -> AsyncIterator[OpsBench]:
    schema = f"ops_{uuid.uuid4().hex[:10]}"
    # A namespace of its own: the bench plays intake's topic of a system of its own.
    settings = OpsSettings(
        database_url=database_url, kafka_bootstrap=kafka_bootstrap, topic_namespace=f"{schema}."
    )
    topic = settings.topic("intake")
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, schema, [CORE_MIGRATIONS])
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": schema})
    await ensure_topics(kafka_bootstrap, [topic, dlq_topic(topic)], partitions=3)
    producer = idempotent_producer(kafka_bootstrap, "ops-test")
    await producer.start()
    store = EventStore(source="tidemark/intake", topic=topic, registry=registry,
                       clock=SystemClock())  # fmt: skip
    bench = OpsBench(pool, producer, store, topic, schema, settings)
    yield bench
    for task in bench.tasks:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    await producer.stop()
    await pool.close()


@pytest.fixture
async def bench_replay(ops_bench: OpsBench) -> OpsBench:
    """The bench, for replay tests (the events are written straight to its store)."""
    return ops_bench
