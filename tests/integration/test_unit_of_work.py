"""The unit of work against a real PostgreSQL: buffered events written at commit in one
statement, nothing on rollback, `append`'s conflict retried by the policy, `record` under
concurrent writers (never a conflict, versions dense), the relay woken after a commit
with events only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.fixtures.statements import waiting_for_a_lock
from tidekit.clock import SystemClock
from tidekit.events import registry
from tidekit.events.intake import TicketRated
from tidekit.messaging.bus import MessageBus
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork, unit_of_work
from tidekit.retry import RetryPolicy
from tidekit.store.eventstore import ConcurrencyConflict, EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations
from tidekit.store.pool import create_pool
from tidekit.store.table_writes import TableWrite

pytestmark = pytest.mark.integration


@dataclass
class Desk:
    pool: asyncpg.Pool
    store: EventStore
    wakes: list[bool] = field(default_factory=list)  # each wake: was a transaction still open?
    open_conns: list[asyncpg.Connection] = field(default_factory=list)

    def wake(self) -> None:
        self.wakes.append(any(c.is_in_transaction() for c in self.open_conns))

    def uow(self) -> unit_of_work:  # type: ignore[valid-type]
        return unit_of_work(self.pool, self.store, self.wake)

    async def stream(self, tid: str) -> list[tuple[int, int]]:
        """(version, rating) of each event of `tid`."""
        async with self.pool.acquire() as conn:
            stored = await self.store.read_stream(conn, tid)
        return [(s.version, s.envelope.data["rating"]) for s in stored]

    async def versions(self, tid: str) -> list[int]:
        return [version for version, _ in await self.stream(tid)]


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    schema = f"u_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await apply_migrations(admin, schema, [CORE_MIGRATIONS])
    pool = await create_pool(
        database_url, schema=schema, application_name="uow-test", min_size=1, max_size=12
    )
    store = EventStore(
        source="tidemark/test", topic="test.topic", registry=registry, clock=SystemClock()
    )
    yield Desk(pool, store)
    await pool.close()
    await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    await admin.close()


def rated(tid: str, stars: int) -> TicketRated:
    return TicketRated(tid=tid, rating=stars, rated_at=datetime.now(UTC))


async def count(desk: Desk, table: str) -> int:
    return int(await desk.pool.fetchval(f"SELECT count(*) FROM {table}"))


async def test_events_are_buffered_and_written_at_commit_in_one_statement(desk: Desk) -> None:
    statements: list[str] = []
    async with desk.uow() as uow:
        uow.append("TID-1", 0, [rated("TID-1", 1), rated("TID-1", 2)])
        uow.append("TID-2", 0, [rated("TID-2", 3)])
        assert await uow.conn.fetchval("SELECT count(*) FROM events") == 0  # buffered
        assert [e.rating for e in uow.pending] == [1, 2, 3]  # type: ignore[attr-defined]
        uow.conn.add_query_logger(lambda q: statements.append(q.query))
    # the statements that wrote, as the block ended (asyncpg's own queries aside)
    writes = [q for q in statements if "INSERT" in q]
    assert len(writes) == 1 and "INSERT INTO outbox" in writes[0], statements
    assert statements.index(writes[0]) < statements.index("COMMIT;")
    assert await desk.versions("TID-1") == [1, 2]
    assert (await count(desk, "events"), await count(desk, "outbox")) == (3, 3)


async def test_a_rolled_back_unit_writes_nothing_and_runs_no_callback(desk: Desk) -> None:
    called: list[str] = []
    with pytest.raises(RuntimeError):
        async with desk.uow() as uow:
            uow.append("TID-1", 0, [rated("TID-1", 1)])
            uow.record([rated("TID-2", 2)])
            await uow.conn.execute("CREATE TABLE side (n int)")
            uow.on_commit(lambda: called.append("committed"))
            raise RuntimeError("the handler failed")
    assert (await count(desk, "events"), await count(desk, "outbox")) == (0, 0)
    assert await desk.pool.fetchval("SELECT to_regclass('side')") is None
    assert called == [] and desk.wakes == []


async def test_append_conflict_is_raised_and_the_bus_runs_the_command_again(desk: Desk) -> None:
    async with desk.uow() as uow:
        uow.append("TID-7", 0, [rated("TID-7", 1)])
    loaded: list[int] = []

    async def rate(command: TicketRated, uow: UnitOfWork) -> int:
        version = len(await uow.store.read_stream(uow.conn, command.tid))
        loaded.append(version)
        if len(loaded) == 1:  # another writer gets in between this load and our write
            async with desk.uow() as other:
                other.append("TID-7", version, [rated("TID-7", 2)])
        uow.append(command.tid, version, [command])
        return version

    bus = MessageBus(
        HandlerRegistry({TicketRated: rate}),
        pool=lambda: desk.pool,
        store=desk.store,
        wake_relay=desk.wake,
        policy=RetryPolicy(attempts=3, base=0.001, cap=0.01),
    )
    assert await bus.handle(rated("TID-7", 3)) == 2
    assert loaded == [1, 2]  # loaded again after the conflict, decided on what it found
    assert await desk.stream("TID-7") == [(1, 1), (2, 2), (3, 3)]

    with pytest.raises(ConcurrencyConflict):  # a stale version, without the bus
        async with desk.uow() as uow:
            uow.append("TID-7", 1, [rated("TID-7", 4)])


async def test_record_under_concurrent_writers_never_conflicts_and_keeps_versions_dense(
    desk: Desk,
) -> None:
    async with desk.uow() as uow:
        uow.append("TID-5", 0, [rated("TID-5", 1)])  # a stream that has history already
    # every writer with a connection and a transaction open, then all released at once
    start = asyncio.Barrier(10 + 1)

    async def writer(n: int) -> None:
        async with desk.uow() as uow:
            await start.wait()
            uow.record([rated("TID-5", 1 + n % 5), rated("TID-5", 1 + n % 5)])
            uow.record([rated(f"TID-O{n}", 1)])  # and a stream of its own, in one flush

    writers = [asyncio.create_task(writer(n)) for n in range(10)]
    await all_released(start)
    await asyncio.gather(*writers)  # no retry policy here: a conflict would fail the test
    assert await desk.versions("TID-5") == list(range(1, 22))
    assert await count(desk, "outbox") == 31


async def test_the_relay_is_woken_after_a_commit_that_wrote_events_only(desk: Desk) -> None:
    async with desk.uow() as uow:
        await uow.conn.execute("CREATE TABLE side (n int)")  # a write, but no events
    assert desk.wakes == []
    async with desk.uow() as uow:
        desk.open_conns = [uow.conn]
        uow.record([rated("TID-3", 4)])
        assert desk.wakes == []
    assert desk.wakes == [False]  # once, and with no transaction open any more


async def test_one_statement_unit_writes_events_and_staged_rows_in_one_round_trip(
    desk: Desk,
) -> None:
    await desk.pool.execute("CREATE TABLE seen (tid text PRIMARY KEY, stars int)")

    async def statements_of(write: Callable[[UnitOfWork], None]) -> list[str]:
        sent: list[str] = []
        async with desk.pool.acquire() as conn:  # the pool's one idle connection: the unit's
            conn.add_query_logger(log := lambda q: sent.append(q.query))
        async with unit_of_work(desk.pool, desk.store, desk.wake, one_statement=True) as uow:
            write(uow)
        async with desk.pool.acquire() as conn:
            conn.remove_query_logger(log)
        # asyncpg's own: it looks up the types of a statement's parameters on first use
        return [q for q in sent if "typeinfo_tree" not in q and "'jit'" not in q]

    def with_a_recorded_stream(uow: UnitOfWork) -> None:
        uow.append("TID-1", 0, [rated("TID-1", 4)])
        uow.record([rated("TID-2", 5)])  # its stream lock is taken in the statement too
        uow.stage(TableWrite("INSERT INTO seen VALUES ($1, $2)", ("TID-1", 4)))

    def appends_and_table_writes(uow: UnitOfWork) -> None:
        uow.append("TID-3", 0, [rated("TID-3", 3)])
        uow.stage(TableWrite("INSERT INTO seen VALUES ($1, $2)", ("TID-3", 3)))
        uow.stage(TableWrite("UPDATE seen SET stars = $2 WHERE tid = $1", ("TID-1", 1)))

    (statement,) = await statements_of(with_a_recorded_stream)  # no BEGIN, no COMMIT
    assert "pg_advisory_xact_lock" in statement and "INSERT INTO seen" in statement
    (statement,) = await statements_of(appends_and_table_writes)  # no BEGIN, no COMMIT
    assert "INSERT INTO seen" in statement and "UPDATE seen" in statement
    rows = await desk.pool.fetch("SELECT tid, stars FROM seen ORDER BY tid")
    assert [tuple(r) for r in rows] == [("TID-1", 1), ("TID-3", 3)]
    assert await desk.versions("TID-3") == [1]
    assert len(desk.wakes) == 2  # the relay is woken after each


async def test_a_failing_staged_write_takes_the_events_with_it(desk: Desk) -> None:
    await desk.pool.execute("CREATE TABLE claims (key text PRIMARY KEY)")
    await desk.pool.execute("INSERT INTO claims VALUES ('k1')")
    for one_statement in (True, False):
        with pytest.raises(asyncpg.UniqueViolationError):
            async with unit_of_work(
                desk.pool, desk.store, desk.wake, one_statement=one_statement
            ) as uow:
                uow.append("TID-9", 0, [rated("TID-9", 2)])
                uow.stage(TableWrite("INSERT INTO claims VALUES ($1)", ("k1",)))
        assert (await count(desk, "events"), await count(desk, "outbox")) == (0, 0)
    assert desk.wakes == []


async def test_staged_writes_land_before_the_events(desk: Desk) -> None:
    """A rebuild folds consumed events (staged with the handler's events) and the service's
    own events in the order they were recorded (clock_timestamp() of each row), so a
    staged row must be written before the events its handler decided."""
    await desk.pool.execute(
        "CREATE TABLE consumed (n int, recorded_at timestamptz DEFAULT clock_timestamp())"
    )
    for one_statement in (True, False):
        async with unit_of_work(
            desk.pool, desk.store, desk.wake, one_statement=one_statement
        ) as uow:
            uow.stage(TableWrite("INSERT INTO consumed (n) VALUES ($1)", (1,)))
            uow.record([rated("TID-5", 5)])
            uow.stage(TableWrite("INSERT INTO consumed (n) VALUES ($1)", (2,)))
    staged = [r[0] for r in await desk.pool.fetch("SELECT recorded_at FROM consumed ORDER BY 1")]
    events = [r[0] for r in await desk.pool.fetch("SELECT recorded_at FROM events ORDER BY 1")]
    # each unit: its two staged rows, then its event
    assert staged[0] < events[0] and staged[1] < events[0]
    assert events[0] < staged[2] and staged[3] < events[1]


async def test_one_statement_records_beside_transactions_keep_versions_dense(desk: Desk) -> None:
    """A one-statement unit takes its recorded streams' locks inside its statement, whose
    snapshot predates the wait: a writer that committed meanwhile makes its versions
    collide, and the store writes again in a transaction instead of failing.
    Transactional writers never see a conflict (they lock before their statement's
    snapshot)."""
    async with desk.uow() as uow:
        uow.append("TID-5", 0, [rated("TID-5", 1)])
    async with desk.pool.acquire() as holder, holder.transaction():
        # A transactional writer holds the stream's lock, its event not yet committed...
        uow = UnitOfWork(holder, desk.store)
        uow.record([rated("TID-5", 2)])
        await uow.flush()
        waiting = asyncio.create_task(one_statement_record(desk, "TID-5", 3))
        await waiting_for_a_lock(desk.pool, "advisory")  # ...while the one-statement writer waits
    await waiting  # took its snapshot before the commit: collided once, then read again
    assert await desk.stream("TID-5") == [(1, 1), (2, 2), (3, 3)]

    # the transactional writers with their transactions open, then all released at once
    start = asyncio.Barrier(16 + 1)

    async def transactional(n: int) -> None:
        async with desk.uow() as uow:
            await start.wait()
            uow.record([rated("TID-5", 1 + n % 5)])

    async def alone(n: int) -> None:
        await start.wait()
        await one_statement_record(desk, "TID-5", 1 + n % 5)

    writers = [asyncio.create_task(w(n)) for n in range(8) for w in (transactional, alone)]
    await all_released(start)
    await asyncio.gather(*writers)  # no retry policy: a conflict would fail the test
    assert await desk.versions("TID-5") == list(range(1, 20))


async def one_statement_record(desk: Desk, tid: str, stars: int) -> None:
    async with unit_of_work(desk.pool, desk.store, desk.wake, one_statement=True) as uow:
        uow.record([rated(tid, stars)])


async def all_released(start: asyncio.Barrier) -> None:
    """Once every writer waits at `start` (the test's task is its last party), bounded."""
    async with asyncio.timeout(10):
        await start.wait()


async def test_events_guarded_by_a_staged_write_go_only_where_it_changed_a_row(
    desk: Desk,
) -> None:
    """A `required` staged write decides whether the events are written: an outcome
    recorded once per claimed row (the notifier's sender) checks the row in the statement
    that writes the event."""
    await desk.pool.execute("CREATE TABLE owed (id int PRIMARY KEY, state text)")
    await desk.pool.execute("INSERT INTO owed VALUES (1, 'pending'), (2, 'pending')")
    settle = "UPDATE owed SET state = 'sent' WHERE id = $1 AND state = 'pending'"
    for one_statement, row in ((True, 1), (False, 2)):
        for stars in (4, 5):  # the second finds the row settled: no event
            async with unit_of_work(
                desk.pool, desk.store, desk.wake, one_statement=one_statement
            ) as uow:
                uow.record([rated(f"TID-{row}", stars)])
                uow.stage(TableWrite(settle, (row,), required=True))
            assert [e.data["rating"] for e in uow.written] == ([4] if stars == 4 else [])
        assert await desk.stream(f"TID-{row}") == [(1, 4)]
    assert await count(desk, "outbox") == 2
    assert len(desk.wakes) == 2  # woken after the writes that wrote events only
