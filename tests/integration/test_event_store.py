"""The event store against a real PostgreSQL: optimistic concurrency, order, outbox rows,
and append_many (several streams in one statement, as the sla-timer's scheduler uses it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tidekit.events import registry
from tidekit.events.intake import TicketRated
from tidekit.store.eventstore import ConcurrencyConflict, EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(database_url)
    assert await apply_migrations(connection, schema, [CORE_MIGRATIONS]) == len(
        CORE_MIGRATIONS.files()
    )
    assert await apply_migrations(connection, schema, [CORE_MIGRATIONS]) == 0  # idempotent
    await connection.execute(f"SET search_path TO {schema}")
    yield connection
    await connection.execute(f"DROP SCHEMA {schema} CASCADE")
    await connection.close()


def rated(tid: str, stars: int) -> TicketRated:
    return TicketRated(tid=tid, rating=stars, rated_at=datetime.now(UTC))


async def test_append_and_read_in_order_with_outbox_rows(conn: asyncpg.Connection) -> None:
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry)
    async with conn.transaction():
        await store.append(conn, "TID-1", 0, [rated("TID-1", 1), rated("TID-1", 2)])
    async with conn.transaction():
        await store.append(conn, "TID-2", 0, [rated("TID-2", 3)])
        await store.append(conn, "TID-1", 2, [rated("TID-1", 4)])
    stream = await store.read_stream(conn, "TID-1")
    assert [s.version for s in stream] == [1, 2, 3]
    assert [s.envelope.data["rating"] for s in stream] == [1, 2, 4]
    assert isinstance(stream[0].envelope.decode(registry), TicketRated)
    everything = await store.read_all(conn)
    assert [s.envelope.subject for s in everything] == ["TID-1", "TID-1", "TID-2", "TID-1"]
    outbox = await conn.fetch("SELECT event_id, topic, record_key FROM outbox ORDER BY id")
    assert [str(r["event_id"]) for r in outbox] == [s.envelope.id for s in everything]
    assert {r["topic"] for r in outbox} == {"test.topic"}
    assert [bytes(r["record_key"]) for r in outbox] == [b"TID-1", b"TID-1", b"TID-2", b"TID-1"]


async def test_stale_expected_version_is_a_conflict_and_writes_nothing(
    conn: asyncpg.Connection,
) -> None:
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry)
    async with conn.transaction():
        await store.append(conn, "TID-9", 0, [rated("TID-9", 1)])
    with pytest.raises(ConcurrencyConflict):
        async with conn.transaction():
            await store.append(conn, "TID-9", 0, [rated("TID-9", 5)])
    assert await store.stream_version(conn, "TID-9") == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_append_outside_a_transaction_is_refused(conn: asyncpg.Connection) -> None:
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry)
    with pytest.raises(RuntimeError):
        await store.append(conn, "TID-3", 0, [rated("TID-3", 1)])


async def test_append_many_streams_in_one_go(conn: asyncpg.Connection) -> None:
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry)
    async with conn.transaction():
        await store.append(conn, "TID-1", 0, [rated("TID-1", 1)])
    async with conn.transaction():
        envelopes = await store.append_many(
            conn,
            [
                ("TID-1", 1, [rated("TID-1", 2), rated("TID-1", 3)]),
                ("TID-2", 0, [rated("TID-2", 4)]),
            ],
        )
    assert [e.subject for e in envelopes] == ["TID-1", "TID-1", "TID-2"]
    one = await store.read_stream(conn, "TID-1")
    assert [(s.version, s.envelope.data["rating"]) for s in one] == [(1, 1), (2, 2), (3, 3)]
    two = await store.read_stream(conn, "TID-2")
    assert [(s.version, s.envelope.data["rating"]) for s in two] == [(1, 4)]
    outbox = await conn.fetch("SELECT event_id, record_key FROM outbox ORDER BY id")
    assert [bytes(r["record_key"]) for r in outbox] == [b"TID-1", b"TID-1", b"TID-1", b"TID-2"]
    assert {str(r["event_id"]) for r in outbox[1:]} == {e.id for e in envelopes}


async def test_append_many_conflicts_on_a_stale_version_and_writes_nothing(
    conn: asyncpg.Connection,
) -> None:
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry)
    async with conn.transaction():
        await store.append(conn, "TID-1", 0, [rated("TID-1", 1)])
    with pytest.raises(ConcurrencyConflict):
        async with conn.transaction():
            await store.append_many(
                conn, [("TID-2", 0, [rated("TID-2", 2)]), ("TID-1", 0, [rated("TID-1", 3)])]
            )
    assert await conn.fetchval("SELECT count(*) FROM events") == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
