"""The outbox relay replaces a producer the brokers refuse for good (issue 19's chaos run).

After every Kafka node was stopped at once, each service's idempotent producer got
OutOfOrderSequenceNumber for its in-flight batch (the brokers lost its sequence). aiokafka
raises it on every later send through that producer, so the relay, restarted each second
with the same producer, never published again: 1,707 classifier events stayed in the
outbox and no ticket after the outage was acknowledged. A new producer (a new producer id)
publishes them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka.errors import OutOfOrderSequenceNumber

from tidekit.kafka.relay import OutboxRelay


class StandInOutbox:
    """The relay's connection to the outbox table (one row), the lock always granted."""

    def __init__(self) -> None:
        self.published = False

    async def __call__(self) -> StandInOutbox:
        return self  # connect

    def is_closed(self) -> bool:
        return False

    async def close(self) -> None:
        """Nothing to close: the stand-in holds no connection."""

    async def fetchval(self, sql: str, *args: Any) -> bool:
        return True  # the advisory lock

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.published:
            return []
        return [{"id": 1, "topic": "t", "record_key": b"k", "record_value": b"v", "headers": "[]"}]

    async def execute(self, sql: str, *args: Any) -> None:
        self.published = True


class StandInBatch:
    def __init__(self) -> None:
        self.records = 0

    def append(self, **record: Any) -> object:
        self.records += 1
        return object()  # appended (the batch is never full)


class StandInProducer:
    """Sends record batches (what the relay uses): a broken one fails each of them."""

    def __init__(self, broken: bool) -> None:
        self.broken, self.sent = broken, 0

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> StandInBatch:
        return StandInBatch()

    async def send_batch(
        self, batch: StandInBatch, topic: str, *, partition: int
    ) -> asyncio.Future[None]:
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.broken:
            ack.set_exception(OutOfOrderSequenceNumber())
        else:
            self.sent += batch.records
            ack.set_result(None)
        return ack


async def test_a_producer_refused_for_its_sequence_is_replaced_and_the_row_published() -> None:
    outbox, broken, fresh = StandInOutbox(), StandInProducer(True), StandInProducer(False)
    renewed: list[Any] = []

    async def renew(old: Any) -> Any:
        renewed.append(old)
        return fresh

    relay = OutboxRelay(outbox, broken, schema="s", renew_producer=renew)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            while not outbox.published:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert renewed == [broken] and fresh.sent == 1
