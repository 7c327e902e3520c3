"""Reading a whole topic as it is now (from its first to its last record), without a group.

The operator's reads never join a consumer group, so they never take partitions away from
a service nor move its offsets; the end offsets are taken first, so a busy topic's read
still ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


@dataclass(frozen=True)
class Record:
    """A consumed record with its headers as a dict (the last of a repeated name wins)."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> Record:
        return cls(
            record.topic,
            record.partition,
            record.offset,
            datetime.fromtimestamp(record.timestamp / 1000, UTC),
            record.key,
            record.value,
            list(record.headers or ()),
        )

    def header(self, name: str) -> str:
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode(errors="replace") if found else ""


async def partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions; none when it does not exist. A consumer without a
    subscription keeps no metadata of other topics, so this asks the brokers (the client's
    full metadata answer; `consumer.topics()` returns only the names)."""
    cluster = await consumer._client.fetch_all_metadata()
    found = cluster.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(found)]


async def read_topic(
    consumer: AIOKafkaConsumer, topic: str, *, timeout: float = 30.0
) -> AsyncIterator[Record]:
    """Every record of `topic` now there, partition by partition in offset order."""
    tps = await partitions(consumer, topic)
    if not tps:
        return
    starts = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    remaining = {tp for tp in tps if ends[tp] > starts[tp]}
    if not remaining:
        return
    consumer.assign(list(remaining))
    for tp in remaining:
        consumer.seek(tp, starts[tp])
    async with asyncio.timeout(timeout):
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, recs in batches.items():
                for rec in recs:
                    if rec.offset < ends[tp]:
                        yield Record.of(rec)
                if recs and recs[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
    consumer.assign([])


async def record_at(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, timeout: float = 10.0
) -> Record | None:
    """The record at `offset` (or the first after it, when that one is a control record)."""
    consumer.assign([tp])
    consumer.seek(tp, offset)
    try:
        async with asyncio.timeout(timeout):
            while True:
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
                for recs in batch.values():
                    if recs:
                        return Record.of(recs[0])
    except TimeoutError:
        return None
    finally:
        consumer.assign([])


def as_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain aligned text table (no dependency; readable in a terminal and a log)."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
