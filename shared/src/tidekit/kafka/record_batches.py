"""Records sent as record batches the caller fills, one open batch per partition.

aiokafka's `send` costs, per record, a coroutine, a partition lookup (two lists of the
topic's partitions), a future and its acknowledgement callback: for the outbox relay that
was more than the rest of a row's publishing. Here each record is appended to its
partition's batch and a batch is queued when it is full or the records end, so there is
one future per batch. The partition is the producer's default one (murmur2 of the key over
the topic's partitions by id, as `send` picks it), so a key's records keep going to
the same partition whichever way they are sent; a partition's batches are queued in
order, so its records reach the broker in the order given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers
_PARTITION_OF_KEY = DefaultPartitioner()


async def send_records(producer: AIOKafkaProducer, records: Iterable[Record]) -> None:
    """Send `records` (each with a key) in their order per partition; returns when the
    broker acknowledged all of them, raises what a batch failed with."""
    partitions: dict[str, list[int]] = {}
    open_batches: dict[tuple[str, int], Any] = {}
    queued: list[asyncio.Future[Any]] = []
    for topic, key, value, headers in records:
        if topic not in partitions:
            partitions[topic] = sorted(await producer.partitions_for(topic))
        every = partitions[topic]
        partition = _PARTITION_OF_KEY(key, every, every)
        batch = open_batches.get((topic, partition))
        if batch is None:
            batch = open_batches[topic, partition] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            # full: queued now (behind the partition's earlier batches), and a new one
            queued.append(await producer.send_batch(batch, topic, partition=partition))
            batch = open_batches[topic, partition] = producer.create_batch()
            # an empty batch takes any record, even one larger than the batch size
            batch.append(key=key, value=value, timestamp=None, headers=headers)
    for (topic, partition), batch in open_batches.items():
        queued.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*queued)
