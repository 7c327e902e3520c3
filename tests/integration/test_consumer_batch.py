"""A consumer batch costs one inbox statement for all its records and no savepoint while
its handlers succeed; a handler that fails still fails alone (its record dead-lettered,
its inbox and consumed_events rows not kept) and every other record is handled once."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from tests.fixtures.records import consumer_record
from tidekit.clock import SystemClock
from tidekit.events import registry
from tidekit.events.envelope import Envelope
from tidekit.events.intake import TicketRated
from tidekit.kafka.consumer import EventConsumer
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.consumed import CONSUMED_MIGRATIONS
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations
from tidekit.store.pool import create_pool
from tidekit.store.table_writes import TableWrite

pytestmark = pytest.mark.integration
TOPIC = "tidemark.intake.v1"


@dataclass
class DeadLetters:
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        self.sent.append({"topic": topic, **record})


@dataclass
class Bench:
    pool: asyncpg.Pool
    consumer: EventConsumer
    dead: DeadLetters
    statements: list[str]
    offsets: itertools.count[int] = field(default_factory=itertools.count)

    def record(self, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
        return consumer_record(envelope, TOPIC, next(self.offsets))

    async def ratings(self) -> list[int]:
        return [r["stars"] for r in await self.pool.fetch("SELECT stars FROM rated ORDER BY 1")]


def rated(stars: int) -> Envelope:
    event = TicketRated(tid=f"TID-{stars}", rating=stars, rated_at=datetime.now(UTC))
    return Envelope.wrap(event, source="tidemark/intake")


async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
    if event.rating == 4:
        raise RuntimeError("this handler cannot cope with a 4")
    uow.stage(TableWrite("INSERT INTO rated VALUES ($1)", (event.rating,)))


def consumer_of(
    pool: asyncpg.Pool, dead: DeadLetters, handlers: HandlerRegistry, **options: Any
) -> EventConsumer:
    return EventConsumer(
        name="tidemark-test",
        kafka="127.0.0.1:9",  # never connected: process_batch only
        topics=[TOPIC],
        pool=pool,
        registry=registry,
        handlers=handlers,
        store=EventStore(source="tidemark/test", topic="t", registry=registry, clock=SystemClock()),
        dlq_producer=dead,  # type: ignore[arg-type]
        record_consumed=True,
        **options,
    )


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    schema = f"b_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await apply_migrations(admin, schema, [CORE_MIGRATIONS, CONSUMED_MIGRATIONS])
    await admin.execute(f"CREATE TABLE {schema}.rated (stars int)")
    statements: list[str] = []

    async def log_statements(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda q: statements.append(q.query))

    pool = await create_pool(
        database_url, schema=schema, application_name="batch-test", min_size=1, max_size=1,
        init=log_statements,
    )  # fmt: skip
    dead = DeadLetters()
    consumer = consumer_of(pool, dead, HandlerRegistry({TicketRated: on_rated}))
    yield Bench(pool, consumer, dead, statements)
    await pool.close()
    await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    await admin.close()


async def test_a_batch_claims_its_records_at_once_and_takes_no_savepoint(bench: Bench) -> None:
    one, two, three = rated(1), rated(2), rated(3)
    await bench.consumer.process_batch([bench.record(one)])
    bench.statements.clear()
    # `one` again (redelivered), `two` twice in the batch (the relay sent it again)
    batch = [bench.record(e) for e in (one, two, three, two)]
    await bench.consumer.process_batch(batch)
    sent = list(bench.statements)
    assert await bench.ratings() == [1, 2, 3]
    assert not [s for s in sent if "SAVEPOINT" in s], sent
    # BEGIN, one claim for the batch, one write per record handled now (its table row and
    # its consumed_events row together), COMMIT
    assert len(sent) == 5 and sent[0] == "BEGIN;" and sent[-1] == "COMMIT;", sent
    assert "INSERT INTO inbox" in sent[1]
    assert all("INSERT INTO rated" in s and "consumed_events" in s for s in sent[2:4])
    assert await bench.pool.fetchval("SELECT count(*) FROM consumed_events") == 3
    assert bench.dead.sent == []


async def test_a_failing_handler_fails_its_record_alone(bench: Bench) -> None:
    batch = [rated(3), rated(4), rated(5)]
    await bench.consumer.process_batch([bench.record(e) for e in batch])
    assert await bench.ratings() == [3, 5]  # each once, though the batch ran twice
    (dead,) = bench.dead.sent
    assert dead["topic"] == f"{TOPIC}.dlq"
    reasons = [v.decode() for k, v in dead["headers"] if k == "dlq_reason"]
    assert reasons[0].startswith("handler error: RuntimeError")
    inbox = {str(r["event_id"]) for r in await bench.pool.fetch("SELECT event_id FROM inbox")}
    assert inbox == {batch[0].id, batch[2].id}  # the failed one's is released for a redrive
    kept = await bench.pool.fetch("SELECT event_id FROM consumed_events")
    assert {str(r["event_id"]) for r in kept} == inbox


async def test_an_id_that_is_no_uuid_is_dead_lettered_and_an_upper_case_one_handled(
    bench: Bench,
) -> None:
    """The inbox claims the batch in one statement keyed by uuid: one id that is not a UUID
    must not fail the others, and a UUID written in capitals must not be taken for one
    already claimed."""
    upper = rated(3)
    batch = [
        rated(1),
        dataclasses.replace(rated(2), id="not-a-uuid"),
        dataclasses.replace(upper, id=upper.id.upper()),
    ]
    await bench.consumer.process_batch([bench.record(e) for e in batch])
    assert await bench.ratings() == [1, 3]
    (dead,) = bench.dead.sent
    reasons = [v.decode() for k, v in dead["headers"] if k == "dlq_reason"]
    assert reasons[0].startswith("unparseable") and "not-a-uuid" in reasons[0]


async def test_a_batch_takes_its_handlers_locks_with_its_claim_and_keeps_them(
    bench: Bench, database_url: str
) -> None:
    """`lock_key`: the inbox claim's statement takes every record's advisory lock (sorted,
    once per key) before any handler runs, and they hold through a failed record's
    savepoint: handlers that lock first find their lock held and send no statement for it."""
    other = await asyncpg.connect(database_url)
    keys = [f"rated:TID-{n}" for n in (3, 4, 5)]
    seen: list[tuple[int, frozenset[str], list[bool]]] = []

    async def free_elsewhere() -> list[bool]:
        """Could another session take each key's lock now (released again at once)?"""
        take = "SELECT pg_try_advisory_xact_lock(hashtext($1))"
        return [await other.fetchval(take, key) for key in keys]

    async def locked_first(event: TicketRated, uow: UnitOfWork) -> None:
        seen.append((event.rating, uow.held_locks, await free_elsewhere()))
        await on_rated(event, uow)

    consumer = consumer_of(
        bench.pool,
        bench.dead,
        HandlerRegistry({TicketRated: locked_first}),
        lock_key=lambda event: f"rated:{event.stream_id()}",
    )
    try:
        await consumer.process_batch([bench.record(rated(n)) for n in (5, 3, 4, 3)])
        assert await free_elsewhere() == [True, True, True]  # released at commit
    finally:
        await other.close()
    # two events of TID-3, one lock; 4 failed alone (a second attempt, record by record)
    assert await bench.ratings() == [3, 3, 5]
    assert [rating for rating, _, _ in seen] == [5, 3, 4, 5, 3, 4, 3]
    for rating, held, free in seen:
        assert held == frozenset(keys), rating
        assert free == [False, False, False], f"a lock was not held when {rating} ran: {free}"
    locking = [s for s in bench.statements if "pg_advisory_xact_lock" in s]
    assert len(locking) == 2 and all("INSERT INTO inbox" in s for s in locking), locking


async def test_a_batch_prefetches_once_for_its_new_records_and_not_when_record_by_record(
    bench: Bench,
) -> None:
    """`prefetch` reads for the records handled now (not the redelivered ones), once per
    batch, and its handlers share what it read; the record-by-record retry after a failed
    handler gets none (a record rolled back could have changed it)."""
    reads: list[list[int]] = []
    shared: list[tuple[int, dict[str, Any] | None]] = []

    async def read_first(conn: asyncpg.Connection, events: Sequence[Any]) -> dict[str, Any]:
        reads.append([event.rating for event in events])
        return {"read": await conn.fetchval("SELECT count(*) FROM rated")}

    async def sharing(event: TicketRated, uow: UnitOfWork) -> None:
        shared.append((event.rating, uow.prefetched))
        await on_rated(event, uow)

    consumer = consumer_of(
        bench.pool, bench.dead, HandlerRegistry({TicketRated: sharing}), prefetch=read_first
    )
    one = rated(1)
    await consumer.process_batch([bench.record(one)])
    await consumer.process_batch([bench.record(e) for e in (one, rated(2), rated(3))])
    assert reads == [[1], [2, 3]]  # `one` again was a redelivery
    first, second, third = shared
    assert first == (1, {"read": 0})
    assert second[1] is third[1] == {"read": 1}  # one mapping for the batch's handlers

    reads.clear()
    shared.clear()
    await consumer.process_batch([bench.record(e) for e in (rated(5), rated(4), rated(3))])
    assert reads == [[5, 4, 3]]  # once, for the attempt without savepoints
    assert [(r, p is None) for r, p in shared] == [
        (5, False),
        (4, False),
        (5, True),
        (4, True),
        (3, True),
    ]
