"""The outbox relay on its own: order, marks, and one relay at a time per schema.

The lock that makes it one is session-level, held on the relay's own connection for as
long as it lives: a batch is then two statements (SELECT, UPDATE), and a relay whose
process or connection dies hands over to another by PostgreSQL ending its session."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from tests.integration.outbox_bench import Bench, append, read_topic
from tidekit.kafka.relay import OutboxRelay

pytestmark = pytest.mark.integration


class Logged:
    """Connects as the bench's relay does, and keeps every statement sent on its
    connections (asyncpg's query logger sees each one the server ran)."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.statements: list[str] = []
        self.connections: list[asyncpg.Connection] = []
        self.logged = asyncio.Event()  # set at each statement logged

    async def __call__(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.bench.database_url, server_settings={"search_path": self.bench.schema}
        )
        conn.add_query_logger(self._log)
        self.connections.append(conn)
        return conn

    def _log(self, logged: asyncpg.connection.LoggedQuery) -> None:
        self.statements.append(logged.query)
        self.logged.set()

    def relay(self) -> OutboxRelay:
        return OutboxRelay(self, self.bench.producer, schema=self.bench.schema)

    async def mark(self, name: str) -> None:
        """A marker statement on the (first) connection, waited for in the log: asyncpg
        calls the loggers soon after a statement, not during it."""
        marker = f"SELECT '{name}'"
        await self.connections[0].execute(marker)
        async with asyncio.timeout(5):
            while marker not in self.statements:
                self.logged.clear()
                await self.logged.wait()

    def between(self, first: str, last: str) -> list[str]:
        start = self.statements.index(f"SELECT '{first}'")
        return self.statements[start + 1 : self.statements.index(f"SELECT '{last}'")]


async def unpublished(bench: Bench) -> int:
    count: int = await bench.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return count


async def test_relay_publishes_committed_rows_in_order_and_marks_them(
    bench: Bench, kafka_bootstrap: str
) -> None:
    ids = [await append(bench, "TID-7", n) for n in (1, 2, 3)]
    relay = bench.relay()
    try:
        assert await relay.publish_batch() == 3
        assert await relay.publish_batch() == 0  # nothing published twice
    finally:
        await relay.close()
    records = await read_topic(kafka_bootstrap, bench.topic, 3)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == ids
    assert {r.key for r in records} == {b"TID-7"}
    assert await bench.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_a_leading_relay_spends_two_statements_on_a_batch(bench: Bench) -> None:
    logged = Logged(bench)
    relay = logged.relay()
    try:
        await append(bench, "TID-20", 1)
        assert await relay.publish_batch() == 1  # takes the lock, then its first batch
        await logged.mark("before")
        await append(bench, "TID-20", 2)
        await append(bench, "TID-20", 3)
        assert await relay.publish_batch() == 2
        await logged.mark("after")
        batch = logged.between("before", "after")
        # No BEGIN, lock or COMMIT around it: the rows, then their mark.
        assert [q.split()[0] for q in batch] == ["SELECT", "UPDATE"], batch
        assert "FROM outbox" in batch[0] and "published_at" in batch[1]
    finally:
        await relay.close()


async def test_one_relay_leads_and_another_takes_over_when_its_session_ends(
    bench: Bench, kafka_bootstrap: str
) -> None:
    first, second = Logged(bench), Logged(bench)
    leader, standby = first.relay(), second.relay()
    try:
        await append(bench, "TID-21", 1)
        assert await leader.publish_batch() == 1
        await append(bench, "TID-21", 2)
        assert await standby.publish_batch() == 0  # the lock is taken: not its turn
        assert await unpublished(bench) == 1
        assert leader.leading and not standby.leading

        # The leader's process dies (its backend ends, as when a pod is killed). With a
        # timeout, pg_terminate_backend waits for the backend to be gone (its lock with it);
        # without one it only signals, and the standby could still find the lock held.
        (leader_conn,) = first.connections
        gone = await bench.pool.fetchval(
            "SELECT pg_terminate_backend($1, 5000)", leader_conn.get_server_pid()
        )
        assert gone
        assert await standby.publish_batch() == 1
        assert standby.leading and await unpublished(bench) == 0

        # The old leader finds its connection gone (an error, or closed already when it
        # looks), connects again and stands by: it publishes nothing while the other leads.
        await append(bench, "TID-21", 3)
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            assert await leader.publish_batch() == 0
        assert await leader.publish_batch() == 0
        assert await standby.publish_batch() == 1
    finally:
        await leader.close()
        await standby.close()
    records = await read_topic(kafka_bootstrap, bench.topic, 3)
    assert len(records) == 3


async def test_a_relay_that_closes_lets_the_next_one_lead_at_once(bench: Bench) -> None:
    first = bench.relay()
    await append(bench, "TID-22", 1)
    assert await first.flush() == 1  # publishes, then lets go
    await append(bench, "TID-22", 2)
    second = bench.relay()
    try:
        assert await second.publish_batch() == 1
    finally:
        await second.close()
