"""Offsets handled but not yet committed to Kafka, and when to commit them.

A consumer commits a partition's offset only once the records before it are handled and
their transaction has committed, so a committed offset always means "done up to here"
(what `tidemark-ops lag` and the tests' progress fixture read). It need not commit after
every poll: an offset commit is a write to `__consumer_offsets` and a round trip the poll
loop waits for, and under load it was a third of the broker's requests (1.27 of 4.2 per
ticket, docs/performance.md). A record handled but not yet committed is only redelivered
if the consumer stops or loses the partition before the next commit, and the inbox drops
a redelivery. So offsets gather here and are committed

- once `interval` has passed since the last commit, while records keep coming;
- on the first poll that brings nothing (the consumer has caught up), so the committed
  offset reaches the end within a poll's wait after a burst;
- before a rebalance takes partitions away, and when the consumer stops.

`interval` 0 commits after every poll. `PendingOffsets` is the pure decision (the caller
passes the monotonic time); `OffsetCommitter` applies it to one aiokafka consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Hashable, Mapping
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError
from prometheus_client import Counter

log = logging.getLogger(__name__)
OFFSET_COMMITS = Counter(
    "tidemark_consumer_offset_commits_total", "Offset commits sent to Kafka", ["consumer"]
)
# A stopping consumer commits what it has handled, but does not hold up a shutdown for it
# (what it does not commit is redelivered and dropped by the inbox).
FINAL_COMMIT_SECONDS = 2.0

Partition = TypeVar("Partition", bound=Hashable)


class PendingOffsets(Generic[Partition]):
    def __init__(self, interval: float, now: float) -> None:
        if interval < 0:
            raise ValueError("the commit interval cannot be negative")
        self._interval = interval
        self._last_commit = now
        self._pending: dict[Partition, int] = {}

    def handled(self, offsets: Mapping[Partition, int]) -> None:
        """Records before `offsets[p]` on each partition p are handled and committed in the
        database. Offsets only move forward: a partition read again from an earlier offset
        (after a rebalance gave it back) keeps the further one."""
        for partition, offset in offsets.items():
            if offset > self._pending.get(partition, -1):
                self._pending[partition] = offset

    def due(self, now: float, *, idle: bool) -> bool:
        """Whether to commit now: something is pending, and the consumer has caught up
        (`idle`: its poll brought nothing) or `interval` has passed since the last commit."""
        return bool(self._pending) and (idle or now - self._last_commit >= self._interval)

    def take(self, assigned: Collection[Partition], now: float) -> dict[Partition, int]:
        """What to commit for the partitions the consumer still owns; all else pending is
        forgotten (another member owns those partitions now and commits its own progress;
        committing ours could move its offset back)."""
        owned = {p: offset for p, offset in self._pending.items() if p in assigned}
        self._pending.clear()
        self._last_commit = now
        return owned

    def __bool__(self) -> bool:
        return bool(self._pending)


class OffsetCommitter(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits one Kafka consumer's handled offsets when they are due (PendingOffsets),
    and before a rebalance takes its partitions away."""

    def __init__(self, name: str, consumer: AIOKafkaConsumer, interval: float) -> None:
        self._name = name
        self._consumer = consumer
        # Monotonic time for a cadence, like a retry's back-off; not the runtime clock.
        self._loop_time = asyncio.get_running_loop().time
        self._pending: PendingOffsets[TopicPartition] = PendingOffsets(interval, self._loop_time())

    def handled(self, offsets: dict[TopicPartition, int]) -> None:
        self._pending.handled(offsets)

    @property
    def pending(self) -> bool:
        """Whether offsets are handled but not committed."""
        return bool(self._pending)

    async def commit_if_due(self, *, idle: bool) -> None:
        if self._pending.due(self._loop_time(), idle=idle):
            await self.commit()

    async def commit(self) -> None:
        offsets = self._pending.take(self._consumer.assignment(), self._loop_time())
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced under us: these partitions may be another member's now.
            # Their records are redelivered to it, and its inbox drops them.
            log.info("offsets not committed after a rebalance", extra={"consumer": self._name})
            return
        OFFSET_COMMITS.labels(self._name).inc()

    async def final_commit(self) -> None:
        """Best effort as the consumer stops (cancelled, or Kafka gone)."""
        if not self.pending:
            return
        try:
            await asyncio.wait_for(self.commit(), FINAL_COMMIT_SECONDS)
        except Exception as exc:  # what is not committed is redelivered
            log.info("offsets not committed at stop", extra={"error": repr(exc)})

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await self.commit()
        except Exception as exc:  # aiokafka would only log it
            log.warning("offsets not committed before a rebalance", extra={"error": repr(exc)})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do (the listener's interface asks for it): the consumer resumes each
        new partition from its group's committed offset."""
