"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are marked published only after the broker acknowledged them. A crash between the
ack and the mark republishes those rows on restart with the same CloudEvents id, which
consumers drop through their inbox, so every event is seen exactly once downstream.

One relay at a time per schema keeps per-TID order: the one that holds the session-level
advisory lock `outbox:<schema>` on a connection of its own (outside the pool, as a LISTEN
is). Holding it for as long as the connection lives makes a batch two statements, the
SELECT and the UPDATE that marks it, where a transaction-level lock took five (BEGIN,
lock, SELECT, UPDATE, COMMIT) for every batch, and the relays run a few batches per
ticket. The other replicas keep their connection and try the lock once per idle poll;
when the leader's process or connection dies, PostgreSQL ends its session and the lock
with it, and one of them takes over. Whatever goes wrong on the connection (an error, a
cancellation) drops it, lock included, and the next batch connects again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from binascii import a2b_base64
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from prometheus_client import Counter, Gauge

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.kafka.record_batches import send_records

log = logging.getLogger(__name__)
PUBLISHED = Counter("tidemark_outbox_published_total", "Outbox rows published to Kafka")
PENDING = Gauge("tidemark_outbox_pending", "Outbox rows not yet published (last seen)")
# The brokers refuse this producer for good: they lost its idempotence sequence (every node
# stopped at once) or its producer id. aiokafka fails every later send through it the same
# way, so only a new producer (a new producer id) publishes again.
PRODUCER_REFUSED = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch,
                    ProducerFenced)  # fmt: skip
RenewProducer = Callable[[AIOKafkaProducer], Awaitable[AIOKafkaProducer]]
# Opens the relay's own connection (search_path set to the service's schema).
Connect = Callable[[], Awaitable[asyncpg.Connection]]
T = TypeVar("T")

UNPUBLISHED = """SELECT id, topic, record_key, record_value, headers FROM outbox
                 WHERE published_at IS NULL ORDER BY id LIMIT $1"""
TAKE_LOCK = "SELECT pg_try_advisory_lock(hashtext($1))"  # session-level: until it ends
MARK_PUBLISHED = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"


class OutboxRelay:
    def __init__(
        self,
        connect: Connect,
        producer: AIOKafkaProducer,
        *,
        schema: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.5,
        renew_producer: RenewProducer | None = None,
    ) -> None:
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._leading = False
        self._producer = producer
        self._renew_producer = renew_producer
        self._lock_name = f"outbox:{schema}"
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._wake = asyncio.Event()
        self.healthy = False

    def wake(self) -> None:
        """Called after a local commit that wrote outbox rows: publish without waiting."""
        self._wake.set()

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await self.close()

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                published = await self.publish_batch()
                self.healthy = True
                backoff = 0.2
            except TRANSIENT_ERRORS as exc:
                self.healthy = False
                log.warning("outbox relay waiting for Kafka/Postgres", extra={"error": repr(exc)})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except PRODUCER_REFUSED as exc:
                if self._renew_producer is None:
                    raise
                self.healthy = False
                # The batch's rows stay unmarked: sent again, consumers drop what arrived.
                log.warning("outbox relay: producer refused, a new one takes over",
                            extra={"error": repr(exc)})  # fmt: skip
                self._producer = await self._renew_producer(self._producer)
                continue
            if published < self._batch_size:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._idle_poll)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def flush(self) -> int:
        """Publish every committed row now, batch after batch (at shutdown, after the
        consumers and workers stopped writing rows), then let go of the lock. 0 while
        another replica holds it: that one publishes them."""
        total = 0
        try:
            while (published := await self.publish_batch()) > 0:
                total += published
                if published < self._batch_size:
                    break
        finally:
            await self.close()
        return total

    async def publish_batch(self) -> int:
        """One batch, if this relay leads (taking the lock when it is free): its rows sent
        in id order, acknowledged, then marked. The number of rows published."""
        conn = await self._leading_connection()
        if conn is None:
            return 0
        rows = await self._on(conn.fetch(UNPUBLISHED, self._batch_size))
        PENDING.set(len(rows))
        if not rows:
            return 0
        # a2b_base64 is what b64decode calls, minus a wrapper's checks, per header
        await send_records(  # every record acknowledged by the broker
            self._producer,
            (
                (
                    row["topic"],
                    bytes(row["record_key"]),
                    bytes(row["record_value"]),
                    [(k, a2b_base64(v)) for k, v in json.loads(row["headers"])],
                )
                for row in rows
            ),
        )
        await self._on(conn.execute(MARK_PUBLISHED, [r["id"] for r in rows]))
        PUBLISHED.inc(len(rows))
        return len(rows)

    @property
    def leading(self) -> bool:
        """Holds the schema's relay lock now."""
        return self._leading and self._conn is not None and not self._conn.is_closed()

    async def close(self) -> None:
        """Let go of the lock and the connection (the lock ends with the session)."""
        conn, self._conn, self._leading = self._conn, None, False
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), 2)
        except BaseException:
            conn.terminate()
            raise

    async def _leading_connection(self) -> asyncpg.Connection | None:
        if self._conn is None or self._conn.is_closed():
            self._conn, self._leading = await self._connect(), False
        if not self._leading:
            take = self._conn.fetchval(TAKE_LOCK, self._lock_name)
            self._leading = bool(await self._on(take))
        return self._conn if self._leading else None

    async def _on(self, statement: Awaitable[T]) -> T:
        """A statement on the relay's connection. A connection that failed under it, or a
        statement cancelled half-way, leaves a session in an unknown state: it is dropped,
        with the lock, and the next batch starts from a new one."""
        try:
            return await statement
        except BaseException:
            conn, self._conn, self._leading = self._conn, None, False
            if conn is not None:
                conn.terminate()
            raise
