"""What the in-process tests of notifier and escalation share: a service's real app on a
database of its own (no lifespan: no Kafka, no relay, no consumer loop), intake's real app
answering their key introspection in the same test, foreign events handed to the service
through its real consumer's record path, and what it published read from its outbox.

Kafka is nowhere: a record the consumer would have polled is built from the event's
envelope exactly as the publisher would send it, and `EventConsumer.process` takes it the
way its poll loop does (inbox row, consumed_events row, handler, events and outbox rows, in
one transaction). A redelivery is the same envelope again.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI

from tests.fixtures.access import ApiKeys
from tests.fixtures.records import consumer_record
from tidekit.clock import ManualClock
from tidekit.events import TOPICS, registry
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.kafka.consumer import EventConsumer
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.settings import ServiceSettings
from tidekit.store.migrate import apply_migrations
from tidekit.web.staff import StaffKeys
from tidemark_intake.app import create_app as create_intake_app
from tidemark_intake.settings import IntakeSettings

INTAKE_URL = "http://intake"  # any URL: the client's transport is intake's app itself

# The service whose topic carries each event module (tidekit.events.<module>).
_PUBLISHER_OF_MODULE = {
    "intake": "intake",
    "classifier": "classifier",
    "sla": "sla-timer",
    "escalation": "escalation",
    "notifier": "notifier",
}


def publisher_of(event: DomainEvent) -> str:
    """The service that publishes `event` (its topic is the one a consumer reads it from)."""
    return _PUBLISHER_OF_MODULE[type(event).__module__.rsplit(".", 1)[1]]


@asynccontextmanager
async def intake_introspection(intake_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose every request is answered by intake's real app (its own
    database, keys made there by tests.fixtures.access.make_keys): what the services'
    StaffKeys ask `POST /v1/introspect` through."""
    app = create_intake_app(IntakeSettings(database_url=intake_db))
    runtime = app.state.intake.runtime
    runtime.pool = await asyncpg.create_pool(
        intake_db, min_size=1, max_size=2, server_settings={"search_path": "intake"}
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=INTAKE_URL) as client:
            yield client
    finally:
        await runtime.pool.close()


class DeadLetterRefused:
    """The consumer's DLQ producer: in these tests a dead letter is a failure of the test
    (an event the service could not handle), reported with the consumer's reason."""

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        reasons = [v.decode() for k, v in record.get("headers", ()) if k == "dlq_reason"]
        raise AssertionError(f"dead-lettered to {topic}: {reasons}")


@dataclass
class ConsumerPath:
    """The service's real consumer (its group, handlers, inbox and consumed_events), fed
    records built here instead of polled from Kafka."""

    runtime: ServiceRuntime
    spec: ConsumerSpec
    consumer: EventConsumer = field(init=False)
    _offsets: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.consumer = EventConsumer(
            name=self.runtime.group_of(self.spec),
            kafka=self.runtime.kafka,  # never connected: no run(), only process()
            topics=self.runtime.topics_of(self.spec),
            pool=self.runtime.require_pool(),
            registry=registry,
            handlers=self.spec.handlers,
            store=self.runtime.store,
            dlq_producer=DeadLetterRefused(),  # type: ignore[arg-type]
            record_consumed=self.spec.record_consumed,
            lock_key=self.spec.lock_key,
            prefetch=self.spec.prefetch,
        )

    async def deliver(self, *events: DomainEvent) -> list[Envelope]:
        """Each event as its publisher would put it on its topic, handled in turn."""
        envelopes = [Envelope.wrap(e, source=f"tidemark/{publisher_of(e)}") for e in events]
        await self.redeliver(*envelopes)
        return envelopes

    async def deliver_in_one_batch(self, *events: DomainEvent) -> list[Envelope]:
        """The events as one poll would hand them over: one batch, one transaction."""
        envelopes = [Envelope.wrap(e, source=f"tidemark/{publisher_of(e)}") for e in events]
        await self.consumer.process_batch([self._record(e) for e in envelopes])
        return envelopes

    async def redeliver(self, *envelopes: Envelope) -> None:
        """Envelopes (new, or handled before: Kafka's redelivery) as records, in order."""
        for envelope in envelopes:
            await self.consumer.process(self._record(envelope))

    def _record(self, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
        publisher = envelope.source.removeprefix("tidemark/")  # as `deliver` wraps it
        topic = self.runtime.settings.topic_namespace + TOPICS[publisher]
        # Only what the service's real consumer subscribes to could ever reach it.
        assert topic in self.runtime.topics_of(self.spec), f"{topic} is not read by this group"
        return consumer_record(envelope, topic, next(self._offsets))


async def outbox(pool: asyncpg.Pool, tid: str | None = None) -> list[Envelope]:
    """What the service put in its outbox for the relay to publish, in order, as the
    records' envelopes (optionally one ticket's)."""
    rows = await pool.fetch("SELECT topic, record_value, headers FROM outbox ORDER BY id")
    envelopes = [
        Envelope.from_kafka(
            bytes(r["record_value"]),
            [(k, base64.b64decode(v)) for k, v in json.loads(r["headers"])],
        )
        for r in rows
    ]
    return [e for e in envelopes if tid is None or e.subject == tid]


async def outbox_topics(pool: asyncpg.Pool) -> set[str]:
    return {r["topic"] for r in await pool.fetch("SELECT DISTINCT topic FROM outbox")}


async def open_service(app: FastAPI, settings: ServiceSettings, keys: ApiKeys,
                       introspection: httpx.AsyncClient) -> asyncpg.Pool:  # fmt: skip
    """Give the app built by the service's create_app what its lifespan would: a pool on
    its database with its migrations applied (as the runtime applies them), and key checks
    answered by intake's app through `introspection`."""
    runtime: ServiceRuntime = app.state.runtime
    schema = settings.db_schema
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=1, max_size=4, server_settings={"search_path": schema}
    )
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, runtime.migration_sets())
    runtime.pool = pool
    app.state.staff_keys = StaffKeys(
        INTAKE_URL, keys.service, settings.staff_key_cache_seconds, client=introspection
    )
    return pool


@dataclass
class Opened:
    """A service's app ready in process: what `serve_in_process` gives each conftest."""

    runtime: ServiceRuntime
    pool: asyncpg.Pool
    consumer: ConsumerPath
    clock: ManualClock
    transport: httpx.ASGITransport
    http: httpx.AsyncClient  # the app; every request carries the key it was opened with


async def serve_in_process(
    stack: AsyncExitStack,
    app: FastAPI,
    settings: ServiceSettings,
    keys: ApiKeys,
    introspection: httpx.AsyncClient,
    *,
    host: str,
    key: str,
) -> Opened:
    """`open_service`, then an HTTP client on the app without its lifespan (no Kafka, relay
    or workers) and the consumer's record path; all closed with `stack`."""
    pool = await open_service(app, settings, keys, introspection)
    stack.push_async_callback(pool.close)
    runtime: ServiceRuntime = app.state.runtime
    [spec] = runtime.consumers
    transport = httpx.ASGITransport(app=app)
    http = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=transport, base_url=f"http://{host}", headers=ApiKeys.header(key)
        )
    )
    assert isinstance(runtime.clock, ManualClock)
    return Opened(runtime, pool, ConsumerPath(runtime, spec), runtime.clock, transport, http)
