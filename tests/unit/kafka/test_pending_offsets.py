"""When a consumer commits its handled offsets (tidekit.kafka.offsets.PendingOffsets):
not after every poll, but once an interval has passed or as soon as it has caught up, and
never an offset behind one already handled or for a partition it no longer owns."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError
from hypothesis import given
from hypothesis import strategies as st

from tidekit.kafka.offsets import OffsetCommitter, PendingOffsets

partitions = st.sampled_from(["a-0", "a-1", "b-0"])
polls = st.lists(st.dictionaries(partitions, st.integers(0, 10_000), min_size=1), max_size=12)


def test_nothing_is_due_before_anything_is_handled() -> None:
    pending: PendingOffsets[str] = PendingOffsets(interval=1.0, now=0.0)
    assert not pending.due(100.0, idle=True)
    assert pending.take({"a-0"}, 100.0) == {}


def test_while_records_keep_coming_offsets_wait_for_the_interval() -> None:
    pending: PendingOffsets[str] = PendingOffsets(interval=1.0, now=10.0)
    pending.handled({"a-0": 5})
    assert not pending.due(10.5, idle=False)
    assert pending.due(11.0, idle=False)
    assert pending.take({"a-0"}, 11.0) == {"a-0": 5}
    pending.handled({"a-0": 9})
    assert not pending.due(11.9, idle=False), "the interval counts from the last commit"
    assert pending.due(12.0, idle=False)


def test_a_consumer_that_has_caught_up_commits_at_once() -> None:
    pending: PendingOffsets[str] = PendingOffsets(interval=3600.0, now=0.0)
    pending.handled({"a-0": 5})
    assert pending.due(0.1, idle=True)


def test_interval_zero_commits_after_every_poll() -> None:
    pending: PendingOffsets[str] = PendingOffsets(interval=0.0, now=0.0)
    pending.handled({"a-0": 1})
    assert pending.due(0.0, idle=False)


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        PendingOffsets(interval=-1.0, now=0.0)


@given(polls, st.sets(partitions))
def test_what_is_taken_is_the_furthest_offset_of_each_owned_partition(
    handled: list[dict[str, int]], owned: set[str]
) -> None:
    pending: PendingOffsets[str] = PendingOffsets(interval=1.0, now=0.0)
    for offsets in handled:
        pending.handled(offsets)
    furthest: dict[str, int] = {}
    for offsets in handled:
        for partition, offset in offsets.items():
            furthest[partition] = max(offset, furthest.get(partition, offset))
    assert pending.take(owned, 1.0) == {p: o for p, o in furthest.items() if p in owned}
    # Taken once: what was not owned is forgotten (another member commits its progress).
    assert not pending
    assert pending.take(owned | {"a-0", "a-1", "b-0"}, 2.0) == {}


class StandInConsumer:
    """The two calls OffsetCommitter makes of an AIOKafkaConsumer."""

    def __init__(self, assigned: set[TopicPartition], fail: Exception | None = None) -> None:
        self.assigned, self.fail = assigned, fail
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail is not None:
            raise self.fail
        self.commits.append(dict(offsets))


A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


async def test_a_rebalance_commits_what_is_pending_before_the_partitions_go() -> None:
    consumer = StandInConsumer({A0, A1})
    committer = OffsetCommitter("test", cast(Any, consumer), interval=3600.0)
    committer.handled({A0: 4, A1: 9})
    await committer.commit_if_due(idle=False)
    assert consumer.commits == [], "not due: the interval has not passed"
    await committer.on_partitions_revoked({A0, A1})
    assert consumer.commits == [{A0: 4, A1: 9}]
    await committer.final_commit()
    assert consumer.commits == [{A0: 4, A1: 9}], "nothing left to commit at stop"


async def test_offsets_of_partitions_no_longer_assigned_are_not_committed() -> None:
    consumer = StandInConsumer({A0})
    committer = OffsetCommitter("test", cast(Any, consumer), interval=0.0)
    committer.handled({A0: 4, A1: 9})  # A1 went to another member meanwhile
    await committer.commit_if_due(idle=False)
    assert consumer.commits == [{A0: 4}]


async def test_a_commit_refused_after_a_rebalance_is_dropped_not_raised() -> None:
    consumer = StandInConsumer({A0}, fail=CommitFailedError("rebalanced"))
    committer = OffsetCommitter("test", cast(Any, consumer), interval=0.0)
    committer.handled({A0: 4})
    await committer.commit_if_due(idle=True)  # does not raise: the inbox drops redeliveries
    assert not committer.pending
