"""tidekit.store.rebuild with intake's read model on a large event store while writers go
on: the swapped-in `tickets` holds every event (those written during the rebuild too),
writers never wait a second, and the rate (events/s) is printed for the report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.unit.notifier import samples
from tidekit.clock import SystemClock
from tidekit.events import escalation, intake, registry, sla
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidekit.store.rebuild import rebuild
from tidemark_intake.tickets import projection
from tidemark_intake.tickets.rebuild import read_model

pytestmark = pytest.mark.integration
TICKETS = 10_000  # 6 events each: 60,000 events


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    name = f"rb_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        migrations = [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        await apply_migrations(conn, name, migrations)
        yield name
        for leftover in (name, f"{name}_rebuild", f"{name}_retired"):
            await conn.execute(f"DROP SCHEMA IF EXISTS {leftover} CASCADE")
    finally:
        await conn.close()


def _ticket_events(n: int) -> tuple[list[object], list[object]]:
    tid = f"TID-{n}"
    own = [
        samples.submitted(tid, f"c{n}@example.com"),
        samples.staff_replied(tid, f"m-{n}"),
    ]
    foreign = [
        samples.classified(tid),
        samples.clock_started(tid),
        escalation.TicketQueued(
            tid=tid,
            queue="tier1",
            submitted_at=samples.T0,
            reason="level",
            rule="r1",
            queued_at=samples.T0,
        ),
        sla.ClockMet(
            tid=tid,
            obligation_id=f"{tid}/1",
            met_at=samples.T0 + timedelta(hours=1),
            deadline=samples.DEADLINE,
            elapsed_seconds=3600,
        ),
    ]
    return own, foreign


def _row(e: Any, version: int, at: datetime, step: int) -> tuple[object, ...]:
    data = json.dumps(e.model_dump(mode="json"))
    recorded = at + timedelta(microseconds=step)
    return (e.stream_id(), version, uuid.uuid4(), e.event_type, e.schema_version, data, at,
            recorded)  # fmt: skip


def _foreign_row(e: Any, at: datetime, step: int) -> tuple[object, ...]:
    data = json.dumps(e.model_dump(mode="json"))
    recorded = at + timedelta(microseconds=step)
    return (uuid.uuid4(), e.stream_id(), e.event_type, "tidemark/other", data, at,
            e.schema_version, recorded)  # fmt: skip


async def fill(conn: asyncpg.Connection, schema: str, tickets: int = TICKETS) -> None:
    """`tickets` tickets' events (6 each) straight into the stores, as if the services had
    run (tests/bench/bench_rebuild.py fills its store with it too)."""
    events, foreign = [], []
    at = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(tickets):
        own, theirs = _ticket_events(n)
        submitted, replied = own
        for version, e, step in ((1, submitted, 0), (2, replied, 5)):
            events.append(_row(e, version, at, step))
        for step, e in enumerate(theirs, start=1):
            foreign.append(_foreign_row(e, at, step))
        at += timedelta(microseconds=10)
    await conn.copy_records_to_table(
        "events", schema_name=schema, records=events,
        columns=("stream_id", "version", "event_id", "event_type", "schema_version", "data",
                 "occurred_at", "recorded_at"),
    )  # fmt: skip
    await conn.copy_records_to_table(
        "foreign_events", schema_name=schema, records=foreign,
        columns=("event_id", "tid", "event_type", "source", "data", "occurred_at",
                 "schema_version", "recorded_at"),
    )  # fmt: skip
    await conn.execute(f"SET search_path TO {schema}")
    async with conn.transaction():  # the live rows, as the projection wrote them
        rows = await conn.fetch("SELECT * FROM events UNION ALL SELECT 0, tid, 0, event_id, "
                                "event_type, schema_version, data, NULL, NULL, occurred_at, "
                                "recorded_at FROM foreign_events ORDER BY recorded_at")  # fmt: skip
        for r in rows:
            e = registry.decode(r["event_type"], r["schema_version"], json.loads(r["data"]))
            if isinstance(e, intake.TicketSubmitted):
                await projection.ticket_row(e, f"salt-{e.tid}", f"hash-{e.tid}").execute(conn)
            elif r["position"]:
                await projection.apply_own(conn, e)
            else:
                await projection.apply_foreign(conn, e)
    await conn.execute("RESET search_path")


async def writer(pool: asyncpg.Pool, schema: str, stop: asyncio.Event) -> tuple[int, float]:
    """Rate tickets as the service would (event and row in one transaction) until `stop`;
    returns (writes, the longest one took in seconds)."""
    store = EventStore(source="tidemark/intake", topic="t", registry=registry, clock=SystemClock())
    writes, longest, n = 0, 0.0, 0
    while not stop.is_set():
        tid = f"TID-{n % TICKETS}"
        began = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            version = await store.stream_version(conn, tid)
            rated = intake.TicketRated(tid=tid, rating=1 + n % 5, rated_at=samples.T0)
            await store.append(conn, tid, version, [rated])
            await projection.apply_own(conn, rated)
        longest = max(longest, time.perf_counter() - began)
        writes += 1
        n += 37
    return writes, longest


def _comparable(rows: list[asyncpg.Record]) -> dict[str, dict[str, object]]:
    return {r["tid"]: {k: v for k, v in r.items() if k != "updated_at"} for r in rows}


async def test_rebuild_swaps_in_every_event_while_writers_go_on(
    database_url: str, schema: str
) -> None:
    conn = await asyncpg.connect(database_url)
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, server_settings={"search_path": schema}
    )
    stop = asyncio.Event()
    try:
        await fill(conn, schema)
        before = _comparable(await conn.fetch(f"SELECT * FROM {schema}.tickets"))
        writing = asyncio.create_task(writer(pool, schema, stop))
        lines: list[str] = []
        report = await rebuild(conn, schema, read_model(), lines.append)
        stop.set()
        writes, longest = await writing
        print(f"\nrebuild: {report.events:,} events in {report.seconds:.2f} s "
              f"({report.rate:,.0f} events/s), lock held {report.locked_seconds * 1000:.0f} ms, "
              f"{writes} concurrent writes, longest {longest * 1000:.0f} ms")  # fmt: skip
        # Writers went on during the rebuild. How long the longest write took (the lock is
        # held for tens of ms; the goal is under 1 s) is printed, not asserted: on a loaded
        # 2-core machine any single write can take that long for reasons of its own.
        assert writes > 0
        assert report.events >= TICKETS * 6
        assert any("events/s" in line for line in lines)
        print("\n".join(lines))

        # Row by row what the live projection wrote before the rebuild (its tokens too), but
        # for the ratings the writers changed meanwhile: those are the last rated events'.
        rebuilt = _comparable(await conn.fetch(f"SELECT * FROM {schema}.tickets"))
        rated = ("rating", "rating_comment")
        differing = {
            (tid, column): (value, rebuilt.get(tid, {}).get(column))
            for tid, row in before.items()
            for column, value in row.items()
            if column not in rated and rebuilt.get(tid, {}).get(column) != value
        }
        assert differing == {} and len(rebuilt) == len(before) == TICKETS
        sample = rebuilt["TID-0"]
        assert sample["queue"] == "tier1" and sample["level"] == "commercial"
        assert json.loads(sample["obligations"])["TID-0/1"]["met_at"]  # type: ignore[arg-type]
        ratings = {
            r["stream_id"]: json.loads(r["data"])["rating"]
            for r in await conn.fetch(
                f"""SELECT DISTINCT ON (stream_id) stream_id, data FROM {schema}.events
                    WHERE event_type = 'ticket.rated' ORDER BY stream_id, version DESC"""
            )
        }
        assert len(ratings) > 0
        assert {tid: rebuilt[tid]["rating"] for tid in ratings} == ratings
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await pool.close()
        await conn.close()
