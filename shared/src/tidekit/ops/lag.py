"""`lag`: per consumer group and partition, how far behind it is and since when.

Lag is the partition's end offset minus the group's committed offset (a partition of a
topic the group reads but has not committed on yet counts from the partition's start, as
its consumers begin at the earliest record). The age is that of the oldest record the group
has not handled: the one at its committed offset. `--max-lag N` makes the exit status 1
when any partition is further behind, for a cron job or a probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO, TypeVar

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from tidekit.clock import wall_clock_now
from tidekit.ops.connect import OpsSettings, kafka_admin, kafka_reader
from tidekit.ops.records import as_table, partitions, record_at

T = TypeVar("T")


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    oldest_unhandled_at: datetime | None

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)

    def age_seconds(self, now: datetime) -> float | None:
        if self.oldest_unhandled_at is None or self.lag == 0:
            return None
        return max((now - self.oldest_unhandled_at).total_seconds(), 0.0)


def _group_id(listed: Any) -> str:
    """list_consumer_groups answers (group id, protocol type) tuples."""
    return str(listed[0] if isinstance(listed, tuple) else listed)


async def _retried(call: Callable[..., Awaitable[T]], *args: Any, attempts: int = 20) -> T:
    """A coordinator that is loading or moving answers with a retriable error for a moment
    (a broker just started, a group rebalancing): ask again, up to a few seconds."""
    for _ in range(attempts - 1):
        try:
            return await call(*args)
        except KafkaError as exc:
            if not exc.retriable:
                raise
            await asyncio.sleep(0.25)
    return await call(*args)


async def group_lags(settings: OpsSettings, group: str | None = None) -> list[PartitionLag]:
    prefix = f"{settings.topic_namespace}tidemark."
    async with kafka_admin(settings) as admin:
        listed = await _retried(admin.list_consumer_groups)
        groups = sorted(
            g for g in map(_group_id, listed) if (g == group if group else g.startswith(prefix))
        )
        committed = {g: await _retried(admin.list_consumer_group_offsets, g) for g in groups}
    lags: list[PartitionLag] = []
    async with kafka_reader(settings) as consumer:
        for g in groups:
            offsets: dict[TopicPartition, int] = {
                tp: meta.offset for tp, meta in committed[g].items() if meta.offset >= 0
            }
            tps = {tp for topic in {tp.topic for tp in offsets}
                   for tp in await partitions(consumer, topic)}  # fmt: skip
            if not tps:
                continue
            starts = await consumer.beginning_offsets(list(tps))
            ends = await consumer.end_offsets(list(tps))
            for tp in sorted(tps):
                done = offsets.get(tp, starts[tp])
                oldest = None
                if ends[tp] > done:
                    record = await record_at(consumer, tp, done)
                    oldest = record.timestamp if record else None
                lags.append(PartitionLag(g, tp.topic, tp.partition, done, ends[tp], oldest))
    return lags


async def lag(
    settings: OpsSettings, out: TextIO, *, max_lag: int | None = None, group: str | None = None
) -> int:
    lags = await group_lags(settings, group)
    now = wall_clock_now()
    rows = []
    for p in lags:
        age = p.age_seconds(now)
        rows.append([p.group, p.topic, p.partition, p.committed, p.end, p.lag,
                     "-" if age is None else f"{age:.1f}s"])  # fmt: skip
    out.write(as_table(rows, ("group", "topic", "partition", "committed", "end", "lag",
                              "oldest unhandled")) + "\n")  # fmt: skip
    over = [p for p in lags if max_lag is not None and p.lag > max_lag]
    if over:
        worst = max(over, key=lambda p: p.lag)
        out.write(f"{len(over)} partition(s) above --max-lag {max_lag} (worst: {worst.group} "
                  f"{worst.topic}/{worst.partition} lag {worst.lag})\n")  # fmt: skip
        return 1
    return 0
