"""The event store against a real PostgreSQL: optimistic concurrency, order, outbox rows,
and append_many (several streams in one statement, as the sla-timer's scheduler uses it)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tidekit.clock import ManualClock, SystemClock
from tidekit.events import registry
from tidekit.events.envelope import Origin
from tidekit.events.intake import TicketRated
from tidekit.store.eventstore import ConcurrencyConflict, EventStore, StreamWrite
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations
from tidekit.telemetry import span_from_headers

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


def a_store() -> EventStore:
    return EventStore(
        source="tidemark/test", topic="test.topic", registry=registry, clock=SystemClock()
    )


def rated(tid: str, stars: int) -> TicketRated:
    return TicketRated(tid=tid, rating=stars, rated_at=datetime.now(UTC))


async def test_append_and_read_in_order_with_outbox_rows(conn: asyncpg.Connection) -> None:
    store = a_store()
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
    store = a_store()
    async with conn.transaction():
        await store.append(conn, "TID-9", 0, [rated("TID-9", 1)])
    with pytest.raises(ConcurrencyConflict):
        async with conn.transaction():
            await store.append(conn, "TID-9", 0, [rated("TID-9", 5)])
    assert await store.stream_version(conn, "TID-9") == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_append_outside_a_transaction_is_refused(conn: asyncpg.Connection) -> None:
    store = a_store()
    with pytest.raises(RuntimeError):
        await store.append(conn, "TID-3", 0, [rated("TID-3", 1)])


async def test_append_many_streams_in_one_go(conn: asyncpg.Connection) -> None:
    store = a_store()
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
    store = a_store()
    async with conn.transaction():
        await store.append(conn, "TID-1", 0, [rated("TID-1", 1)])
    with pytest.raises(ConcurrencyConflict):
        async with conn.transaction():
            await store.append_many(
                conn, [("TID-2", 0, [rated("TID-2", 2)]), ("TID-1", 0, [rated("TID-1", 3)])]
            )
    assert await conn.fetchval("SELECT count(*) FROM events") == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_event_time_is_the_stores_clock_not_the_wall_clock(
    conn: asyncpg.Connection,
) -> None:
    """A manual clock set years away from real time: ce_time (the envelope, the stored row
    and the Kafka record in the outbox) is the clock's time."""
    clock = ManualClock(datetime(2041, 3, 4, 5, 6, 7, tzinfo=UTC))
    store = EventStore(source="tidemark/test", topic="test.topic", registry=registry, clock=clock)
    async with conn.transaction():
        (appended,) = await store.append(conn, "TID-4", 0, [rated("TID-4", 5)])
    assert appended.time == clock.now()
    (stored,) = await store.read_stream(conn, "TID-4")
    assert stored.envelope.time == clock.now()
    headers = dict(outbox_headers(await conn.fetchval("SELECT headers FROM outbox")))
    assert headers["ce_time"] == b"2041-03-04T05:06:07Z"


async def test_append_many_gives_each_stream_its_own_trace_and_chain(
    conn: asyncpg.Connection,
) -> None:
    """What the sla-timer's scheduler does: events that no event caused, each ticket's in a
    trace of its own and in the chain of the ticket (its first event's correlation id)."""
    store = a_store()
    async with conn.transaction():
        (first,) = await store.append(conn, "TID-1", 0, [rated("TID-1", 1)])
        await store.append(conn, "TID-1", 1, [rated("TID-1", 2)])
    chains = await store.chain_ids(conn, ["TID-1", "TID-2"])
    assert chains == {"TID-1": first.correlation_id}  # TID-2 has no events
    trace = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    async with conn.transaction():
        one, two = await store.append_many(
            conn,
            [("TID-1", 2, [rated("TID-1", 3)]), ("TID-2", 0, [rated("TID-2", 4)])],
            origins={"TID-1": Origin(trace=trace, correlation_id=chains["TID-1"])},
        )
    assert (one.correlation_id, one.causation_id, dict(one.trace)) == (
        first.correlation_id,
        None,
        trace,
    )
    assert (two.correlation_id, two.causation_id) == (two.id, None)  # a chain of its own
    rows = await conn.fetch("SELECT headers FROM outbox ORDER BY id")
    assert dict(outbox_headers(rows[2]["headers"]))["traceparent"] == trace["traceparent"].encode()
    assert "traceparent" not in dict(outbox_headers(rows[3]["headers"]))


async def test_a_writes_own_trace_wins_over_the_current_span_which_fills_in_the_rest(
    conn: asyncpg.Connection,
) -> None:
    """A unit of work's writes carry the trace they were decided in (not the flush's); a
    write that carries none takes the trace of the span current at the write."""
    store = a_store()
    decided_in = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    flushing = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with span_from_headers("flush", {"traceparent": flushing}):
        async with conn.transaction():
            own, current = await store.write(
                conn,
                [
                    StreamWrite("TID-1", 0, [rated("TID-1", 1)], trace=decided_in),
                    StreamWrite("TID-2", 0, [rated("TID-2", 2)]),
                ],
            )
    assert dict(own.trace) == decided_in
    assert current.trace["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")


async def test_each_events_data_time_and_key_go_to_postgresql_once(
    conn: asyncpg.Connection,
) -> None:
    """The statement carries an event's data once, as its record's value (the data column
    is read from it), the write's one time as one value, and no record keys (the stream
    ids they are); what it stores is the same."""
    store = a_store()
    sent: list[tuple[str, tuple[object, ...]]] = []
    conn.add_query_logger(lambda q: sent.append((q.query, q.args)))
    async with conn.transaction():
        envelopes = await store.append_many(
            conn,
            [
                ("TID-1", 0, [rated("TID-1", 1), rated("TID-1", 2)]),
                ("TID-2", 0, [rated("TID-2", 3)]),
            ],
        )
    (args,) = [a for q, a in sent if "INSERT INTO outbox" in q]
    sent_in_lists = [x for a in args if isinstance(a, list) for x in a]
    records = [e.to_kafka() for e in envelopes]
    for _, value, _ in records:
        assert [x for x in sent_in_lists if x in (value, value.decode())] == [value]
    assert not any(isinstance(x, datetime) for x in sent_in_lists)
    assert [key for key, _, _ in records] not in args
    rows = await conn.fetch(
        """SELECT o.record_key, o.record_value, e.data, e.occurred_at FROM outbox o
           JOIN events e USING (event_id) ORDER BY o.id"""
    )
    assert [bytes(r["record_key"]) for r in rows] == [b"TID-1", b"TID-1", b"TID-2"]
    assert [json.loads(r["data"]) for r in rows] == [json.loads(r["record_value"]) for r in rows]
    assert [r["occurred_at"] for r in rows] == [e.time for e in envelopes]


async def test_its_statements_are_planned_once_not_at_every_write(
    conn: asyncpg.Connection,
) -> None:
    """PostgreSQL plans a prepared statement afresh at each of its first five executions
    (custom plans), then keeps one generic plan unless the custom ones look cheaper. The
    statement's rows are `unnest`s of parameter arrays: a custom plan saw each array's
    length (one event), the generic plan assumes ten, so every write was planned anew
    (0.2-0.3 ms of PostgreSQL's CPU each; docs/performance.md). Appends in a transaction
    and records alone share the statement; it settles on one plan."""
    store = a_store()
    for n in range(1, 9):
        async with conn.transaction():
            await store.append(conn, f"TID-{n}", 0, [rated(f"TID-{n}", 1)])
        recorded = StreamWrite(f"TID-{n}", None, [rated(f"TID-{n}", 2)])
        await store.write(conn, [recorded], atomic_alone=True)
    (plans,) = await conn.fetch(
        """SELECT generic_plans, custom_plans FROM pg_prepared_statements
           WHERE statement LIKE '%INSERT INTO ' || 'outbox%'"""  # not this statement
    )
    assert dict(plans) == {"generic_plans": 11, "custom_plans": 5}


def outbox_headers(stored: str) -> list[tuple[str, bytes]]:
    return [(k, base64.b64decode(v)) for k, v in json.loads(stored)]
