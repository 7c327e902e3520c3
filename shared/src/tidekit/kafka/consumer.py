"""The idempotent consumer: inbox + handler in one transaction, offsets after commit.

For each record: parse the CloudEvents envelope and decode the event; records that cannot
be parsed, name an unknown type, or make the handler raise a non-transient error go to
`<topic>.dlq` with the reason in a header, and the consumer goes on. The runtime also
subscribes each group to its redrive topics (`<topic>.redrive.<group>`), where an operator
hands dead letters back once the cause is fixed (`tidemark-ops dlq redrive`). Otherwise,
in the Postgres transaction of its batch (one per partition and poll), insert (consumer,
event id) into the inbox; if it was already there the record is a redelivery and nothing
happens, else the service's handler for the event runs with a unit of work on the same
connection, the envelope as its cause, and the events it buffered are written at its end.
How a batch keeps its statements few (one inbox claim for all its records, savepoints
only once a handler has failed): tidekit.kafka.batch. Transient failures (Postgres or
Kafka away, a concurrency conflict) roll the batch back, back off (tidekit.retry) and
retry the whole batch, never skipping a record.

Dead letters are sent only once the batch's transaction has committed (and before the
offsets are committed to Kafka): a batch that is rolled back and retried finds its failing
records again and would otherwise send each of them once per attempt.

Offsets are committed to Kafka after the transactions of their records, but not after
every poll: at most every `commit_interval` seconds while records keep coming, at once
when a poll brings nothing, before a rebalance takes partitions away and when the consumer
stops (tidekit.kafka.offsets). `after_commit` (waking the relay or a sender) runs after
each poll's transactions, not after the offsets' commit.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.events import dlq_topic, origin_topic
from tidekit.events.base import DomainEvent, EventRegistry, UnknownEventType
from tidekit.events.envelope import Envelope, MalformedRecord
from tidekit.kafka.batch import BatchHandler, LockKey, Prefetch
from tidekit.kafka.connection import KafkaConnection
from tidekit.kafka.offsets import OffsetCommitter
from tidekit.messaging.registry import HandlerRegistry
from tidekit.retry import UNTIL_DONE
from tidekit.store.eventstore import EventStore

log = logging.getLogger(__name__)
HANDLED = Counter("tidemark_consumer_handled_total", "Records handled", ["consumer", "type"])
DUPLICATES = Counter("tidemark_consumer_duplicates_total", "Redelivered records", ["consumer"])
DEAD_LETTERED = Counter("tidemark_consumer_dlq_total", "Records sent to a DLQ", ["consumer"])


@dataclass(frozen=True)
class DeadLetter:
    """A record bound for its topic's DLQ, and why."""

    record: ConsumerRecord[bytes, bytes]
    reason: str


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        kafka: KafkaConnection | str,
        topics: Sequence[str],
        pool: asyncpg.Pool,
        registry: EventRegistry,
        handlers: HandlerRegistry,
        store: EventStore,
        dlq_producer: AIOKafkaProducer,
        after_commit: Callable[[], None] = lambda: None,
        batch_size: int = 200,
        record_consumed: bool = False,
        lock_key: LockKey | None = None,
        prefetch: Prefetch | None = None,
        commit_interval: float = 1.0,
    ) -> None:
        self.name = name
        self._kafka = KafkaConnection.of(kafka)
        self._topics = list(topics)
        self._pool = pool
        self._registry = registry
        self._handlers = handlers
        self._handled_types = handlers.event_types()
        self._store = store
        self._dlq = dlq_producer
        self._after_commit = after_commit
        self._batch_size = batch_size
        # Keep each handled envelope (tidekit.store.consumed): what a rebuild folds.
        self._batch = BatchHandler(name, handlers, store, record_consumed, lock_key, prefetch)
        self._commit_interval = commit_interval
        self._consumer: AIOKafkaConsumer | None = None
        self.healthy = False

    async def run(self) -> None:
        attempt = 0
        while True:
            consumer = AIOKafkaConsumer(
                **self._kafka.client_kwargs(),
                group_id=self.name,
                client_id=self.name,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
            )
            offsets = OffsetCommitter(self.name, consumer, self._commit_interval)
            consumer.subscribe(self._topics, listener=offsets)
            try:
                await consumer.start()
                self._consumer = consumer
                attempt = 0
                await self._poll_forever(consumer, offsets)
            except TRANSIENT_ERRORS as exc:
                self.healthy = False
                log.warning("consumer waiting for Kafka", extra={"error": repr(exc)})
                attempt += 1
                await asyncio.sleep(UNTIL_DONE.delay(attempt))
            finally:
                self._consumer = None
                try:
                    await offsets.final_commit()
                finally:
                    await consumer.stop()

    async def _poll_forever(self, consumer: AIOKafkaConsumer, offsets: OffsetCommitter) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
            self.healthy = True
            if not batches:
                await offsets.commit_if_due(idle=True)
                continue
            # Each batch of a partition in one transaction, so a commit's cost is shared by
            # its records; order is per partition, i.e. per TID. A TID has the same
            # partition number in every topic (same key, same partition count), so batches
            # of one partition number go one after the other, and only different numbers
            # run side by side: run together, two topics' batches of the same tickets waited
            # on each other's row locks for a whole batch (or deadlocked and were retried).
            lanes: dict[int, list[list[ConsumerRecord[bytes, bytes]]]] = defaultdict(list)
            for tp, recs in batches.items():
                lanes[tp.partition].append(recs)
            await asyncio.gather(*(self._lane_until_done(lane) for lane in lanes.values()))
            offsets.handled({tp: recs[-1].offset + 1 for tp, recs in batches.items()})
            self._after_commit()
            await offsets.commit_if_due(idle=False)

    async def _lane_until_done(self, lane: list[list[ConsumerRecord[bytes, bytes]]]) -> None:
        for records in lane:
            await self._batch_until_done(records)

    async def _batch_until_done(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # The one retry policy, without a limit: a record is never skipped.
        await UNTIL_DONE.run(lambda: self.process_batch(records))

    async def process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle records of one partition in one transaction (tidekit.kafka.batch).

        A transient error rolls the whole batch back and it is retried; a handler's other
        errors fail that record alone, and it goes to the DLQ once the batch has committed
        (an attempt that is rolled back sends nothing)."""
        dead_letters: list[DeadLetter] = []
        decoded = [(r, self._decode(r, dead_letters)) for r in records]
        wanted = [(r, d) for r, d in decoded if d is not None]
        if wanted:
            outcome = await self._batch.run(self._pool, wanted)
            dead_letters += [DeadLetter(f.record, f.reason) for f in outcome.failed]
            if outcome.duplicates:
                DUPLICATES.labels(self.name).inc(outcome.duplicates)
            for uow in outcome.done:  # committed: their callbacks (relay woken after the batch)
                uow.committed(lambda: None)
                assert isinstance(uow.cause, Envelope)
                HANDLED.labels(self.name, uow.cause.type).inc()
        await self._send_dead_letters(dead_letters)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """One record on its own (tests and tools); the same path as a batch."""
        await self.process_batch([record])

    def _decode(
        self, record: ConsumerRecord[bytes, bytes], dead_letters: list[DeadLetter]
    ) -> tuple[DomainEvent, Envelope] | None:
        """The event, or None when it is not for us; poison records join `dead_letters`.

        A record whose `ce_type` header names a known type this consumer does not handle is
        skipped on the header alone: its value is not parsed (most records on a topic are
        of types a given service ignores). Its publisher's own consumers judge its body."""
        if self._skips(record):
            return None
        try:
            envelope = Envelope.from_kafka(record.value, list(record.headers or ()))
            if envelope.type not in self._handled_types:
                if envelope.type not in self._registry:
                    raise UnknownEventType(f"unknown event type {envelope.type!r}")
                return None  # a known event this service does not care about
            _require_uuid(envelope.id)
            return envelope.decode(self._registry), envelope
        except (MalformedRecord, UnknownEventType, ValueError) as exc:
            dead_letters.append(DeadLetter(record, f"unparseable: {exc}"))
            return None

    def _skips(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        for name, value in record.headers or ():
            if name == "ce_type":
                event_type = value.decode("utf-8", "replace")
                return event_type not in self._handled_types and event_type in self._registry
        return False

    async def _send_dead_letters(self, dead_letters: list[DeadLetter]) -> None:
        """Send each to its DLQ, retrying (only what is not sent yet) while Kafka is away:
        retrying the batch instead would send the ones already sent a second time."""
        attempt = 0
        while dead_letters:
            try:
                await self._dead_letter(dead_letters[0])
                dead_letters.pop(0)
            except TRANSIENT_ERRORS as exc:
                log.warning("DLQ send retried", extra={"error": repr(exc)})
                attempt += 1
                await asyncio.sleep(UNTIL_DONE.delay(attempt))

    async def _dead_letter(self, dead: DeadLetter) -> None:
        record, reason = dead.record, dead.reason
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason.encode()[:2000]),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        # A record re-driven to this group (<topic>.redrive.<group>) that fails again goes
        # back to the DLQ of the topic it was first published to, not to a DLQ of its own.
        dlq = dlq_topic(origin_topic(record.topic))
        await self._dlq.send_and_wait(dlq, value=record.value, key=record.key, headers=headers)
        DEAD_LETTERED.labels(self.name).inc()
        log.error("record sent to DLQ", extra={"topic": record.topic, "reason": reason})

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer else set()


def _require_uuid(event_id: str) -> None:
    """The inbox keys on the event id as a uuid: a record whose id is not one is poison."""
    try:
        uuid.UUID(event_id)
    except ValueError:
        raise MalformedRecord(f"event id {event_id!r} is not a UUID") from None
