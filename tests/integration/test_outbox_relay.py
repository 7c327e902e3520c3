"""The outbox relay on its own: order, marks, and one relay at a time per schema.

The lock that makes it one is session-level, held on the relay's own connection for as
long as it lives: a batch is then two statements (SELECT, UPDATE), and a relay whose
process or connection dies hands over to another by PostgreSQL ending its session."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid

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


async def test_rows_fuller_than_a_batch_keep_their_order_and_partition_per_key(
    bench: Bench, kafka_bootstrap: str
) -> None:
    """The relay fills a record batch per partition and queues it when full: rows worth
    several batches per partition still arrive in id order per key, each key on the
    partition the producer's own `send` picks for it, headers intact."""
    keys = [f"TID-{n}" for n in range(6)]
    padding = "x" * 40_000  # 6 keys x 12 rows x 40 KB: several 256 KiB batches a partition
    rows = [
        (str(uuid.uuid4()), key, f'{{"n": {n}, "pad": "{padding}"}}', n)
        for n in range(12)
        for key in keys
    ]
    await bench.pool.executemany(
        "INSERT INTO outbox (event_id, topic, record_key, record_value, headers)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        [
            (eid, bench.topic, key.encode(), value.encode(),
             json.dumps([["ce_id", base64.b64encode(eid.encode()).decode()], ["n", "AA=="]]))
            for eid, key, value, _ in rows
        ],
    )  # fmt: skip
    relay = bench.relay()
    try:
        assert await relay.publish_batch() == len(rows)
    finally:
        await relay.close()
    for key in keys:  # where `send` puts each key, for comparison
        await bench.producer.send_and_wait(bench.topic, b"{}", key=key.encode())
    records = await read_topic(kafka_bootstrap, bench.topic, len(rows) + len(keys))
    for key in keys:
        mine = [r for r in records if r.key == key.encode()]
        assert len({r.partition for r in mine}) == 1, key  # the relay's and send's alike
        relayed = [r for r in mine if r.value != b"{}"]
        assert [dict(r.headers)["ce_id"].decode() for r in relayed] == [
            eid for eid, k, _, _ in rows if k == key
        ]
        assert all(dict(r.headers)["n"] == b"\x00" for r in relayed)
