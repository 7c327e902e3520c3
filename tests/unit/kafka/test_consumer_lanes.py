"""How one poll's batches run: a TID has the same partition number in every topic, so the
batches of one partition number go one after the other (run together, they waited on each
other's row locks for a whole batch), and different partition numbers run side by side."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from tidekit.events import registry
from tidekit.kafka.consumer import EventConsumer
from tidekit.kafka.offsets import OffsetCommitter
from tidekit.messaging.registry import HandlerRegistry


class OnePoll:
    """An AIOKafkaConsumer that answers one poll with `batches`, then ends the loop."""

    def __init__(self, batches: dict[TopicPartition, list[Any]]) -> None:
        self.batches, self.polls, self.committed = batches, 0, {}

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:
        self.polls += 1
        if self.polls > 1:
            raise asyncio.CancelledError
        return self.batches

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed = offsets

    def assignment(self) -> set[TopicPartition]:
        return set(self.batches)


def _record(topic: str, partition: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, partition, 7, 0, 0, b"TID-1", b"{}", None, 2, -1, [])


async def test_batches_of_one_partition_number_run_in_turn_others_side_by_side() -> None:
    consumer = EventConsumer(
        name="test",
        kafka="127.0.0.1:1",
        topics=["a", "b"],
        pool=cast(Any, None),
        registry=registry,
        handlers=HandlerRegistry({}),
        store=cast(Any, None),
        dlq_producer=cast(Any, None),
    )
    running: set[tuple[str, int]] = set()
    overlaps: list[frozenset[tuple[str, int]]] = []

    async def process_batch(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        me = (records[0].topic, records[0].partition)
        running.add(me)
        overlaps.append(frozenset(running))
        for _ in range(3):  # let every other batch of the poll start if it may
            await asyncio.sleep(0)
        overlaps.append(frozenset(running))
        running.discard(me)

    consumer.process_batch = process_batch  # type: ignore[method-assign]
    batches = {
        TopicPartition(topic, partition): [_record(topic, partition)]
        for topic in ("a", "b")
        for partition in (0, 1)
    }
    poll = OnePoll(batches)
    offsets = OffsetCommitter("test", cast(Any, poll), interval=0)  # commit after every poll
    with pytest.raises(asyncio.CancelledError):  # the stand-in's second poll ends the loop
        await consumer._poll_forever(cast(Any, poll), offsets)
    same_number_together = [
        seen for seen in overlaps if len({partition for _, partition in seen}) < len(seen)
    ]
    assert same_number_together == [], "two topics' batches of one partition number overlapped"
    assert any(len(seen) == 2 for seen in overlaps), "partitions 0 and 1 did not run side by side"
    assert poll.committed == {tp: 8 for tp in batches}
