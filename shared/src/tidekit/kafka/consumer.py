"""The idempotent consumer: inbox + handler in one transaction, offsets after commit.

For each record: parse the CloudEvents envelope and decode the event; records that cannot
be parsed, name an unknown type, or make the handler raise a non-transient error go to
`<topic>.dlq` with the reason in a header, and the consumer goes on. Otherwise, in one
Postgres transaction, insert (consumer, event id) into the inbox; if it was already there
the record is a redelivery and nothing happens, else the handler runs with the same
connection. Offsets are committed to Kafka only after the transactions of a batch commit.
Transient failures (Postgres or Kafka away) back off and retry the same record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.events import dlq_topic
from tidekit.events.base import DomainEvent, EventRegistry, UnknownEventType
from tidekit.events.envelope import Envelope, MalformedRecord
from tidekit.store.eventstore import ConcurrencyConflict
from tidekit.telemetry import span_from_headers

log = logging.getLogger(__name__)
RETRY_RECORD: tuple[type[BaseException], ...] = (ConcurrencyConflict, *TRANSIENT_ERRORS)
HANDLED = Counter("tidemark_consumer_handled_total", "Records handled", ["consumer", "type"])
DUPLICATES = Counter("tidemark_consumer_duplicates_total", "Redelivered records", ["consumer"])
DEAD_LETTERED = Counter("tidemark_consumer_dlq_total", "Records sent to a DLQ", ["consumer"])


@dataclass(frozen=True)
class Delivery:
    """What a handler gets besides the event: the envelope (ids, causation) and the tx."""

    envelope: Envelope
    conn: asyncpg.Connection


Handler = Callable[[DomainEvent, Delivery], Awaitable[None]]


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        bootstrap: str,
        topics: Sequence[str],
        pool: asyncpg.Pool,
        registry: EventRegistry,
        handlers: dict[str, Handler],
        dlq_producer: AIOKafkaProducer,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._pool = pool
        self._registry = registry
        self._handlers = handlers
        self._dlq = dlq_producer
        self._after_commit = after_commit
        self._consumer: AIOKafkaConsumer | None = None
        self.healthy = False

    async def run(self) -> None:
        backoff = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                *self._topics,
                bootstrap_servers=self._bootstrap,
                group_id=self.name,
                client_id=self.name,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
            )
            try:
                await consumer.start()
                self._consumer = consumer
                backoff = 0.5
                await self._poll_forever(consumer)
            except TRANSIENT_ERRORS as exc:
                self.healthy = False
                log.warning("consumer waiting for Kafka", extra={"error": repr(exc)})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self._consumer = None
                await consumer.stop()

    async def _poll_forever(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=200)
            self.healthy = True
            for tp, records in batches.items():
                for record in records:
                    await self._process_until_done(record)
                await consumer.commit({tp: records[-1].offset + 1})

    async def _process_until_done(self, record: ConsumerRecord[bytes, bytes]) -> None:
        backoff = 0.2
        while True:
            try:
                await self.process(record)
                return
            except RETRY_RECORD as exc:
                log.warning(
                    "retrying record",
                    extra={"error": repr(exc), "topic": record.topic, "offset": record.offset},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        headers = list(record.headers or ())
        try:
            envelope = Envelope.from_kafka(record.value, headers)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                if envelope.type not in self._registry:
                    raise UnknownEventType(f"unknown event type {envelope.type!r}")
                return  # a known event this service does not care about
            domain_event = envelope.decode(self._registry)
        except (MalformedRecord, UnknownEventType, ValueError) as exc:
            await self._dead_letter(record, f"unparseable: {exc}")
            return
        with span_from_headers(f"consume {envelope.type}", envelope.trace, envelope.subject):
            try:
                await self._handle(domain_event, envelope, record)
            except RETRY_RECORD:
                raise
            except Exception as exc:
                log.exception("handler failed; record dead-lettered")
                await self._dead_letter(record, f"handler error: {type(exc).__name__}: {exc}")

    async def _handle(
        self, domain_event: DomainEvent, envelope: Envelope, record: ConsumerRecord[bytes, bytes]
    ) -> None:
        handler = self._handlers[envelope.type]
        async with self._pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                """INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
                self.name,
                envelope.id,
                record.topic,
                record.partition,
                record.offset,
            )
            if not first_time:
                DUPLICATES.labels(self.name).inc()
                return
            await handler(domain_event, Delivery(envelope, conn))
        HANDLED.labels(self.name, envelope.type).inc()
        self._after_commit()

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        DEAD_LETTERED.labels(self.name).inc()
        log.error("record sent to DLQ", extra={"topic": record.topic, "reason": reason})
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason.encode()[:2000]),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await self._dlq.send_and_wait(
            dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
        )

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer else set()
