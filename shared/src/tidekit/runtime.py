"""One service's process context: its pool, store, relay and consumers, started once.

Nothing connects at import time. `start()` returns at once and connects in the
background, retrying with back-off, so a service started while Postgres or Kafka is down
comes up, answers 503 (with Retry-After) to what needs them, and recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer

from tidekit.clock import Clock, clock_from_setting
from tidekit.connections import (
    DB_OR_BROKER_DOWN,
    database_ok,
    dedicated_connection,
    kafka_ok,
    migrated_pool,
    retry_until_up,
    started_producer,
)
from tidekit.errors import DependencyUnavailable
from tidekit.events import dlq_topic, redrive_topic, registry
from tidekit.kafka.batch import LockKey, Prefetch
from tidekit.kafka.clients import ensure_topics
from tidekit.kafka.connection import KafkaConnection
from tidekit.kafka.consumer import EventConsumer
from tidekit.kafka.relay import OutboxRelay
from tidekit.messaging.bus import MessageBus
from tidekit.messaging.registry import HandlerRegistry
from tidekit.settings import ServiceSettings
from tidekit.store.consumed import CONSUMED_MIGRATIONS
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet
from tidekit.store.retention import retention_worker

log = logging.getLogger(__name__)
T = TypeVar("T")
FLUSH_GIVES_UP: tuple[type[BaseException], ...] = (TimeoutError, *DB_OR_BROKER_DOWN)
RELAY_TASK = "outbox-relay"
# The last publish at shutdown; with the clients' close it stays well under the chart's
# terminationGracePeriodSeconds (tests/delivery checks the values leave room for it).
FINAL_FLUSH_SECONDS = 10.0


@dataclass
class ConsumerSpec:
    """A consumer group of this service: the topics it reads (their SPEC names; the runtime
    puts the settings' topic namespace before them) and the handlers of the events it
    reads (usually the runtime's `handlers`, which hold the service's commands too)."""

    topics: list[str]
    handlers: HandlerRegistry
    suffix: str = "main"
    after_commit: Callable[[], None] | None = None  # e.g. wake a sender after a handled record
    # Keep every handled envelope in `consumed_events` (tidekit.store.consumed), so the
    # service's read models can be rebuilt from its own events plus these.
    record_consumed: bool = False
    lock_key: LockKey | None = None  # each batch's claim takes these locks (kafka.batch)
    prefetch: Prefetch | None = None  # read for each batch at once (kafka.batch)


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations: MigrationSet
    consumers: list[ConsumerSpec] = field(default_factory=list)
    # Long-running loops of the service itself (a sender, a scheduler), started once the
    # database and Kafka are up; each gets the runtime and runs until cancelled.
    workers: list[Callable[[ServiceRuntime], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )

    pool: asyncpg.Pool | None = None
    producer: AIOKafkaProducer | None = None
    relay: OutboxRelay | None = None
    running_consumers: list[EventConsumer] = field(default_factory=list)
    # The service's handlers of commands and events, registered once in its create_app.
    handlers: HandlerRegistry = field(default_factory=HandlerRegistry)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _refused_producers: list[AIOKafkaProducer] = field(default_factory=list)

    def __post_init__(self) -> None:
        name = self.settings.service_name
        self.topic = self.settings.topic(name)
        self.kafka = KafkaConnection.from_settings(self.settings)  # every client's connection
        self.clock: Clock = clock_from_setting(self.settings.clock)
        # ce_time from the same clock as the times in the events' data
        self.store = EventStore(
            source=f"tidemark/{name}", topic=self.topic, registry=registry, clock=self.clock
        )
        # Routes and the SMTP listener hand their commands to the handlers through this.
        self.bus = MessageBus(
            self.handlers, pool=self.require_pool, store=self.store, wake_relay=self.wake_relay
        )

    # --- wiring (create_app) -------------------------------------------------------------
    def consume_and_record(
        self,
        topics: list[str],
        *,
        suffix: str = "main",
        after_commit: Callable[[], None] | None = None,
        lock_key: LockKey | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        """Read `topics` (SPEC names) into the service's handlers in one consumer group,
        keeping every handled envelope: what `tidemark-ops rebuild` folds (rebuild.py)."""
        self.consumers.append(
            ConsumerSpec(
                topics=topics,
                handlers=self.handlers,
                suffix=suffix,
                after_commit=after_commit,
                record_consumed=True,
                lock_key=lock_key,
                prefetch=prefetch,
            )
        )

    # --- life cycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._bring_up(), name="bring-up"))

    async def stop(self) -> None:
        """Shut down in an order that loses nothing (uvicorn calls this on SIGTERM once the
        in-flight requests are answered): consumers leave their groups (their loops stop
        the Kafka consumer on cancel, so the partitions move at once) and workers end; then
        the relay stops and publishes, once more, what the last requests and handlers
        committed; then the producer flushes and closes. Bounded by FINAL_FLUSH_SECONDS
        plus the clients' own close, well inside the chart's terminationGracePeriodSeconds."""
        relay_tasks = [t for t in self._tasks if t.get_name() == RELAY_TASK]
        await _cancel([t for t in self._tasks if t not in relay_tasks])
        await _cancel(relay_tasks)
        self._tasks.clear()
        await self._final_flush()
        for producer in [*self._refused_producers, self.producer]:
            if producer is not None:
                with contextlib.suppress(Exception):
                    await producer.stop()
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), 5)

    async def _final_flush(self) -> None:
        if self.relay is None:
            return
        try:
            async with asyncio.timeout(FINAL_FLUSH_SECONDS):
                published = await self.relay.flush()
            log.info("outbox flushed at shutdown", extra={"published": published})
        except FLUSH_GIVES_UP as exc:
            # Still durable: the rows stay in the outbox for the next relay to publish.
            log.warning("outbox not flushed at shutdown", extra={"error": repr(exc)})

    async def _bring_up(self) -> None:
        pool = await self._retry("postgres", self._connect_db)
        producer = await self._retry("kafka", self._connect_kafka)
        self.relay = OutboxRelay(
            partial(self.connect_dedicated, "relay"),
            producer,
            schema=self.settings.db_schema,
            renew_producer=self._renew_producer,
        )
        self._spawn(self.relay.run, RELAY_TASK)
        for spec in self.consumers:
            consumer = EventConsumer(
                name=self.group_of(spec),
                kafka=self.kafka,
                topics=self.topics_of(spec) + self.redrive_topics_of(spec),
                pool=pool,
                registry=registry,
                handlers=spec.handlers,
                store=self.store,
                dlq_producer=producer,
                after_commit=_chain(self.relay.wake, spec.after_commit),
                record_consumed=spec.record_consumed,
                lock_key=spec.lock_key,
                prefetch=spec.prefetch,
                commit_interval=self.settings.consumer_commit_interval.total_seconds(),
            )
            self.running_consumers.append(consumer)
            self._spawn(consumer.run, consumer.name)
        for worker in self.workers:
            self._spawn(partial(worker, self), getattr(worker, "__name__", "worker"))
        s = self.settings
        prune = partial(
            retention_worker, pool, s.db_schema, s.retention_rules(), self.clock,
            interval=s.retention_interval, batch_size=s.retention_batch_size,
        )  # fmt: skip
        self._spawn(prune, "retention")
        log.info("service running", extra={"topic": self.topic})

    def migration_sets(self) -> list[MigrationSet]:
        recording = any(spec.record_consumed for spec in self.consumers)
        return [CORE_MIGRATIONS, *([CONSUMED_MIGRATIONS] if recording else []), self.migrations]

    def topics_of(self, spec: ConsumerSpec) -> list[str]:
        """The topics `spec` reads, in this system's topic namespace."""
        return [self.settings.topic_namespace + t for t in spec.topics]

    def redrive_topics_of(self, spec: ConsumerSpec) -> list[str]:
        """The topics only `spec`'s group reads: dead letters it failed, handed back by an
        operator (`tidemark-ops dlq redrive`) without other groups seeing them again."""
        return [redrive_topic(t, self.group_of(spec)) for t in self.topics_of(spec)]

    def group_of(self, spec: ConsumerSpec) -> str:
        """`spec`'s consumer group: <namespace>tidemark.<service>.<suffix>, where the main
        group takes the settings' suffix and a named extra group keeps its own."""
        s = self.settings
        suffix = s.consumer_group_suffix if spec.suffix == "main" else spec.suffix
        return f"{s.topic_namespace}tidemark.{s.service_name}.{suffix}"

    def _spawn(self, factory: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Run a loop for the life of the service; an unexpected crash is logged and the loop
        restarted after a pause, so one bad record or bug never silently stops a worker."""

        async def supervised() -> None:
            while True:
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("worker crashed; restarting in 1 s", extra={"worker": name})
                    await asyncio.sleep(1.0)

        self._tasks.append(asyncio.create_task(supervised(), name=name))

    async def _connect_db(self) -> asyncpg.Pool:
        self.pool = await migrated_pool(self.settings, self.migration_sets())
        return self.pool

    async def connect_dedicated(self, role: str = "listener") -> asyncpg.Connection:
        """A connection of its own, outside the pool (connections.dedicated_connection)."""
        return await dedicated_connection(self.settings, role)

    async def _connect_kafka(self) -> AIOKafkaProducer:
        s = self.settings
        own = [self.topic, dlq_topic(self.topic)]
        consumed = [t for spec in self.consumers for t in self.topics_of(spec)]
        dlqs = [dlq_topic(t) for t in consumed]
        redrives = [t for spec in self.consumers for t in self.redrive_topics_of(spec)]
        await ensure_topics(
            self.kafka, own + consumed + dlqs + redrives, partitions=s.topic_partitions
        )
        self.producer = await self._started_producer()
        return self.producer

    async def _renew_producer(self, refused: AIOKafkaProducer) -> AIOKafkaProducer:
        """A new producer for the relay in place of one the brokers refuse for good. The
        old one stays open for the consumers' dead letters; it is closed at shutdown."""
        producer = await self._started_producer()
        self._refused_producers.append(refused)
        self.producer = producer
        return producer

    async def _started_producer(self) -> AIOKafkaProducer:
        return await started_producer(self.kafka, self.settings.service_name)

    async def _retry(self, what: str, connect: Callable[[], Awaitable[T]]) -> T:
        return await retry_until_up(what, connect)

    # --- used by routes ------------------------------------------------------------------
    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise DependencyUnavailable("database", self.settings.retry_after_seconds)
        return self.pool

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ok(self.pool), "kafka": await kafka_ok(self.producer)}


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _chain(first: Callable[[], None], second: Callable[[], None] | None) -> Callable[[], None]:
    if second is None:
        return first

    def both() -> None:
        first()
        second()

    return both
