"""Outbox relay → real Kafka → idempotent consumer, with redelivery and a poison record.
(The relay alone: test_outbox_relay.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import pytest
from prometheus_client import REGISTRY

from tests.fixtures.kafka_progress import until_caught_up
from tests.integration.outbox_bench import Bench, append, read_topic, record_count
from tidekit.events import dlq_topic, registry
from tidekit.events.intake import TicketRated
from tidekit.kafka.consumer import EventConsumer
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.eventstore import ConcurrencyConflict

pytestmark = pytest.mark.integration


def start_rated_consumer(
    bench: Bench,
    kafka_bootstrap: str,
    on_rated: Callable[[TicketRated, UnitOfWork], Awaitable[None]],
    after_commit: Callable[[], None] = lambda: None,
    record_consumed: bool = False,
    commit_interval: float = 1.0,
) -> str:
    """The bench's consumer of its own topic, handling ticket.rated, running until the end;
    returns its group's name."""
    consumer = EventConsumer(
        name=f"test-consumer-{bench.schema}",
        kafka=kafka_bootstrap,
        topics=[bench.topic],
        pool=bench.pool,
        registry=registry,
        handlers=HandlerRegistry({TicketRated: on_rated}),
        store=bench.store,
        dlq_producer=bench.producer,
        after_commit=after_commit,
        record_consumed=record_consumed,
        commit_interval=commit_interval,
    )
    bench.tasks.append(asyncio.create_task(consumer.run()))
    return consumer.name


async def test_consumer_handles_once_despite_redelivery_and_skips_poison(
    bench: Bench, kafka_bootstrap: str
) -> None:
    handled: list[int] = []

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        assert uow.conn.is_in_transaction()
        if event.rating == 4:
            raise RuntimeError("this handler cannot cope with a 4")
        # Counted once committed: a batch whose handler failed runs again (without it),
        # and an attempt rolled back has handled nothing.
        uow.on_commit(lambda: handled.append(event.rating))

    first = await append(bench, "TID-8", 1)
    # A poison record in the middle: not a CloudEvent at all.
    await bench.producer.send_and_wait(bench.topic, b"garbage", key=b"TID-8")
    await append(bench, "TID-8", 4)  # the handler raises on this one
    await append(bench, "TID-8", 5)
    await bench.publish()
    # Redeliver the first record, as after a crash before the offset commit.
    records = await read_topic(kafka_bootstrap, bench.topic, 4)
    duplicate = next(r for r in records if dict(r.headers).get("ce_id", b"").decode() == first)
    await bench.producer.send_and_wait(
        bench.topic, duplicate.value, key=duplicate.key, headers=list(duplicate.headers)
    )

    start_rated_consumer(bench, kafka_bootstrap, on_rated, record_consumed=True)
    async with asyncio.timeout(30):
        while sorted(handled) != [1, 5]:
            await asyncio.sleep(0.1)
    dead = await read_topic(kafka_bootstrap, dlq_topic(bench.topic), 2)
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert reasons[0].startswith("handler error: RuntimeError")
    assert reasons[1].startswith("unparseable")
    # A marker behind the duplicate on the same partition (same key): once it is handled,
    # the duplicate before it has been too, so a wrongly handled duplicate is in `handled`.
    marker = await append(bench, "TID-8", 3)
    await bench.publish()
    # Wait for the marker's inbox row (committed), not for the handler's call: the handler
    # runs inside the batch's transaction, which may not have committed yet.
    inbox_has = "SELECT count(*) FROM inbox WHERE event_id = $1::uuid"
    async with asyncio.timeout(30):
        while not await bench.pool.fetchval(inbox_has, marker):
            await asyncio.sleep(0.1)
    assert sorted(handled) == [1, 3, 5]
    inbox = await bench.pool.fetchval("SELECT count(*) FROM inbox")
    assert inbox == 3
    # What a rebuild folds: each handled record once, neither the redelivery nor the record
    # whose handler failed (rolled back with its savepoint).
    recorded = await bench.pool.fetch("SELECT event_id, data FROM consumed_events")
    assert sorted(json.loads(r["data"])["rating"] for r in recorded) == [1, 3, 5]
    assert {str(r["event_id"]) for r in recorded} >= {first, marker}


async def test_a_retried_batch_dead_letters_its_failing_record_once(
    bench: Bench, kafka_bootstrap: str
) -> None:
    """One batch: a record whose handler always fails, then one whose handler meets a
    transient error once. The batch is rolled back and retried; the failing record must
    reach the DLQ once (not once per attempt) and the other record be handled once."""
    poison_calls: list[int] = []
    handled: list[int] = []
    conflicts = iter([ConcurrencyConflict("TID-9", 0)])  # raised on the first attempt only
    committed = asyncio.Event()

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        if event.rating == 4:
            poison_calls.append(4)
            raise RuntimeError("this handler cannot cope with a 4")
        if (conflict := next(conflicts, None)) is not None:
            raise conflict
        await uow.conn.execute("CREATE TABLE IF NOT EXISTS rated (stars int)")
        await uow.conn.execute("INSERT INTO rated VALUES ($1)", event.rating)
        handled.append(event.rating)

    def after_commit() -> None:
        if handled:
            committed.set()  # the offsets of the batch that handled the good record

    await append(bench, "TID-9", 4)
    await append(bench, "TID-9", 5)  # same key: same partition, fetched in the same batch
    await bench.publish()
    start_rated_consumer(bench, kafka_bootstrap, on_rated, after_commit)
    async with asyncio.timeout(30):
        await committed.wait()

    # Each of the batch's two attempts met the failing record twice: once in the run
    # without savepoints (rolled back when it failed), once in the run with them.
    assert poison_calls == [4, 4, 4, 4], "the batch was retried with the failing record in it"
    assert handled == [5]
    assert await bench.pool.fetchval("SELECT count(*) FROM rated") == 1
    # DLQ sends come before the offset commit, so the topic is complete by now.
    assert await record_count(kafka_bootstrap, dlq_topic(bench.topic)) == 1
    (dead,) = await read_topic(kafka_bootstrap, dlq_topic(bench.topic), 1)
    assert dict(dead.headers)["dlq_reason"].decode().startswith("handler error: RuntimeError")


async def test_a_consumer_commits_offsets_per_interval_not_per_poll_and_all_once_caught_up(
    bench: Bench, kafka_bootstrap: str
) -> None:
    """Records arriving one at a time are each a poll of their own. Offset commits are a
    third of the broker's requests under load, so they wait for the interval (here longer
    than the test) or for a poll that brings nothing; and once the consumer has caught up
    its group's committed offsets reach the topic's end."""
    handled = 0
    one_more = asyncio.Event()

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        def count() -> None:
            nonlocal handled
            handled += 1
            one_more.set()

        uow.on_commit(count)

    group = start_rated_consumer(bench, kafka_bootstrap, on_rated, commit_interval=3600.0)

    def commits() -> float:
        sample = "tidemark_consumer_offset_commits_total"
        return REGISTRY.get_sample_value(sample, {"consumer": group}) or 0.0

    records = 20
    for stars in range(records):
        one_more.clear()
        await append(bench, "TID-10", 1 + stars % 5)  # one key: one partition, in order
        await bench.publish()
        async with asyncio.timeout(30):
            await one_more.wait()  # handled: the next record comes in a poll of its own
    assert handled == records
    # Only a poll that waited 500 ms for nothing commits before the interval; on a busy
    # machine a few may. Committing after every poll, as before, made it `records`.
    assert commits() <= records // 4
    await until_caught_up(kafka_bootstrap, group, [bench.topic], timeout=30)


async def test_a_stopping_consumer_commits_what_it_has_handled(
    bench: Bench, kafka_bootstrap: str
) -> None:
    """Stopped (cancelled, as at shutdown) before its interval or an idle poll came, the
    consumer still commits its handled offsets: the next owner of its partitions starts
    after them instead of redelivering them."""
    handled: list[int] = []
    all_handled = asyncio.Event()
    records = 5

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        uow.on_commit(lambda: handled.append(event.rating))

    def after_commit() -> None:  # after a poll's transactions, its offsets taken note of
        if len(handled) == records:
            all_handled.set()

    for stars in range(1, records + 1):
        await append(bench, "TID-11", stars)  # one key: one partition, in order
    await bench.publish()
    group = start_rated_consumer(
        bench, kafka_bootstrap, on_rated, after_commit, commit_interval=3600.0
    )
    async with asyncio.timeout(30):
        await all_handled.wait()
    consumer = bench.tasks.pop()
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    # Every record is handled and the consumer is gone: what it committed is final.
    await until_caught_up(kafka_bootstrap, group, [bench.topic], timeout=5)
