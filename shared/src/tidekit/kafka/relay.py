"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are marked published only after the broker acknowledged them. A crash between the
ack and the mark republishes those rows on restart with the same CloudEvents id, which
consumers drop through their inbox, so every event is seen exactly once downstream.
One relay at a time per schema (transaction-level advisory lock) keeps per-TID order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable

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

log = logging.getLogger(__name__)
PUBLISHED = Counter("tidemark_outbox_published_total", "Outbox rows published to Kafka")
PENDING = Gauge("tidemark_outbox_pending", "Outbox rows not yet published (last seen)")
# The brokers refuse this producer for good: they lost its idempotence sequence (every node
# stopped at once) or its producer id. aiokafka fails every later send through it the same
# way, so only a new producer (a new producer id) publishes again.
PRODUCER_REFUSED = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch,
                    ProducerFenced)  # fmt: skip
RenewProducer = Callable[[AIOKafkaProducer], Awaitable[AIOKafkaProducer]]


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        schema: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.5,
        renew_producer: RenewProducer | None = None,
    ) -> None:
        self._pool = pool
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
        consumers and workers stopped writing rows). 0 while another replica holds the
        relay's lock: that one publishes them."""
        total = 0
        while (published := await self.publish_batch()) > 0:
            total += published
            if published < self._batch_size:
                break
        return total

    async def publish_batch(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            got_lock = await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtext($1))", self._lock_name
            )
            if not got_lock:
                return 0
            rows = await conn.fetch(
                """SELECT id, topic, record_key, record_value, headers FROM outbox
                   WHERE published_at IS NULL ORDER BY id LIMIT $1""",
                self._batch_size,
            )
            PENDING.set(len(rows))
            if not rows:
                return 0
            futures = []
            for row in rows:
                headers = [(k, base64.b64decode(v)) for k, v in json.loads(row["headers"])]
                futures.append(
                    await self._producer.send(
                        row["topic"],
                        value=bytes(row["record_value"]),
                        key=bytes(row["record_key"]),
                        headers=headers,
                    )
                )
            await asyncio.gather(*futures)  # every record acknowledged by the broker
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
        PUBLISHED.inc(len(rows))
        return len(rows)
