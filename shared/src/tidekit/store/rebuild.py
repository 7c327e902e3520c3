"""Rebuild a service's read models from its events into a scratch schema, then swap.

1. From one snapshot (writers go on): the scratch schema gets an empty copy of each read
   model table (`LIKE … INCLUDING ALL`), the ids of the snapshot's events a catch-up could
   meet again (recorded since the oldest open transaction began), and the fold of every
   event in the snapshot.
2. Catch-up, still without a lock: the events written meanwhile, until few are left.
3. The swap, in one short transaction: the live tables are locked against writers
   (EXCLUSIVE: readers go on), the last events are folded, what events do not carry is
   copied over (`ReadModel.fix_up`), and each scratch table replaces its live one
   (`ALTER TABLE … SET SCHEMA`, indexes renamed to the live names, foreign keys and owned
   sequences moved across). The lock is asked for with a 0.5 s `lock_timeout` (a queued
   EXCLUSIVE request would hold new writers back too): after a refusal it is tried again.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg.cursor import Cursor

from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.store.swap_tables import move_tables, validate_foreign_keys

Batch = Sequence[asyncpg.Record]
BATCH = 5000
LOCK_TIMEOUT = "500ms"


@dataclass
class ReadModel:
    """What a service's rebuild plugs in.

    `source_sql` selects every event the read models are folded from, with the columns
    event_id, origin, event_type, schema_version, data, recorded_at, n (an order within
    equal recorded_at), unqualified (the live schema is on the search path). `apply` folds
    a batch of those rows into the tables (the scratch copies come first on the search
    path); `flush` writes what `apply` kept in memory; `fix_up(conn, live, scratch)` copies
    what the events do not carry from the live rows. `refusal(conn)` says why the events
    cannot give the whole read model (None: they can); the rebuild then touches nothing.
    `apply_in_memory`: `apply` never uses the connection, so the rebuild asks Postgres for
    the next batch before folding this one (Postgres reads it on another core meanwhile)."""

    tables: list[str]
    source_sql: str
    apply: Callable[[asyncpg.Connection, Batch], Awaitable[None]]
    flush: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
    fix_up: Callable[[asyncpg.Connection, str, str], Awaitable[None]] | None = None
    refusal: Callable[[asyncpg.Connection], Awaitable[str | None]] | None = None
    apply_in_memory: bool = False


class RebuildRefused(ValueError):
    """The service's stores do not hold every event its read models were folded from."""


def stored_event(row: asyncpg.Record) -> DomainEvent:
    """The event of a source row (written by this system, so decoded as trusted)."""
    return registry.decode_trusted(row["event_type"], row["schema_version"], row["data"])


async def live_schema(conn: asyncpg.Connection) -> str:
    """In `apply` and `flush`: the live schema (after the scratch one on the search path)."""
    return str(await conn.fetchval("SELECT (current_schemas(false))[2]"))


async def replace_rows(
    conn: asyncpg.Connection,
    table: str,
    key: str,
    keys: Sequence[str],
    columns: Sequence[str],
    records: Iterable[tuple[object, ...]],
) -> None:
    """In `table`'s scratch copy (first on the search path, as in `apply` and `flush`): the
    rows whose `key` is in `keys` are replaced by `records` (a key without one goes).
    `records` may be made as they are read (an iterator): the COPY sends them in chunks, so
    Postgres takes in the first while the rest are made."""
    schema = str(await conn.fetchval("SELECT (current_schemas(false))[1]"))
    await conn.execute(f"DELETE FROM {schema}.{table} WHERE {key} = ANY($1::text[])", list(keys))
    if isinstance(records, Sequence) and not records:
        return  # nothing to copy (an iterator cannot tell before it is read)
    await conn.copy_records_to_table(table, records=records, columns=columns, schema_name=schema)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the fold grows: it keeps hundreds of thousands of
    long-lived objects (events' values, rows), without cycles, which every full collection
    would walk again (a third of a rebuild's CPU time); reference counting still frees."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class RebuildReport:
    events: int
    seconds: float
    locked_seconds: float  # writers waited at most this long (plus the lock's own wait)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def rebuild(
    conn: asyncpg.Connection,
    live: str,
    model: ReadModel,
    progress: Callable[[str], None] = print,
    *,
    attempts: int = 20,
) -> RebuildReport:
    scratch, retired = f"{live}_rebuild", f"{live}_retired"
    if model.refusal:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {live}")
            reason = await model.refusal(conn)
        if reason:
            raise RebuildRefused(f"cannot rebuild {live}'s read models: {reason}")
    started = time.perf_counter()
    await conn.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
    await conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")

    def report(n: int) -> None:
        took = time.perf_counter() - started
        progress(f"  {n:,} events folded ({n / took if took > 0 else 0:,.0f} events/s)")

    async with conn.transaction(isolation="repeatable_read"):
        await conn.execute(f"CREATE SCHEMA {scratch}")
        for table in model.tables:
            await conn.execute(
                f"CREATE TABLE {scratch}.{table} (LIKE {live}.{table} INCLUDING ALL)"
            )
        await conn.execute(f"CREATE TABLE {scratch}._replayed (event_id uuid PRIMARY KEY)")
        # An event this snapshot misses was inserted by a transaction still open now or begun
        # later, so it was recorded (clock_timestamp()) after the oldest open one began: the
        # catch-ups only look from there, which keeps the one under the lock short, and only
        # the ids of the snapshot's events from there are kept to tell them apart.
        # (Only a role that sees every session's xact_start can bound it; others look at all.)
        since = await conn.fetchval(
            """SELECT CASE WHEN pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')
                           THEN min(xact_start) ELSE '-infinity'::timestamptz END
               FROM pg_stat_activity WHERE xact_start IS NOT NULL"""
        )
        await conn.execute(f"SET LOCAL search_path TO {live}")
        await conn.execute(
            f"""INSERT INTO {scratch}._replayed
                SELECT event_id FROM ({model.source_sql}) s WHERE recorded_at >= $1""",
            since,
        )
        await conn.execute(f"SET LOCAL search_path TO {scratch}, {live}")
        cursor = await conn.cursor(f"{model.source_sql} ORDER BY recorded_at, n")
        with _collector_paused():
            folded = await _fold_snapshot(conn, cursor, model, report)
            if model.flush:
                await model.flush(conn)
    report(folded)

    for _ in range(5):  # the events written meanwhile, without a lock
        async with conn.transaction():
            caught = await _catch_up(conn, live, scratch, model, since)
        folded += caught
        if caught < BATCH:
            break
    if model.fix_up:  # most of it now, the rest under the lock
        async with conn.transaction():
            await model.fix_up(conn, live, scratch)

    locked = await _swap(conn, live, scratch, retired, model, since, progress, attempts)
    folded += locked[0]
    await conn.execute(f"DROP SCHEMA {retired} CASCADE")
    await conn.execute(f"DROP SCHEMA {scratch} CASCADE")
    await validate_foreign_keys(conn, live, model.tables)
    return RebuildReport(folded, time.perf_counter() - started, locked[1])


async def _fold_snapshot(
    conn: asyncpg.Connection, cursor: Cursor, model: ReadModel, report: Callable[[int], None]
) -> int:
    """Folds the cursor's rows, a batch per round trip (not row by row). With
    `apply_in_memory` the next batch is asked for before this one is folded, so Postgres
    reads it (on another core) while Python folds."""
    folded = 0
    batch = await cursor.fetch(BATCH)
    while batch:
        following = None
        if model.apply_in_memory:
            following = asyncio.ensure_future(cursor.fetch(BATCH))
            await asyncio.sleep(0)  # the task sends its request before the fold holds the loop
        try:
            await model.apply(conn, batch)
        except BaseException:
            if following:  # one operation at a time: the rollback must wait for the read
                await asyncio.wait([following])
            raise
        folded += len(batch)
        if folded % 50_000 == 0:
            report(folded)
        batch = await following if following else await cursor.fetch(BATCH)
    return folded


async def _catch_up(
    conn: asyncpg.Connection, live: str, scratch: str, model: ReadModel, since: datetime
) -> int:
    await conn.execute(f"SET LOCAL search_path TO {live}")
    rows = await conn.fetch(
        f"""SELECT * FROM ({model.source_sql}) s WHERE recorded_at >= $1 AND NOT EXISTS (
                SELECT 1 FROM {scratch}._replayed r WHERE r.event_id = s.event_id)
            ORDER BY recorded_at, n""",
        since,
    )
    if not rows:
        return 0
    await conn.execute(
        f"INSERT INTO {scratch}._replayed SELECT unnest($1::uuid[])", [r["event_id"] for r in rows]
    )
    await conn.execute(f"SET LOCAL search_path TO {scratch}, {live}")
    for first in range(0, len(rows), BATCH):
        await model.apply(conn, rows[first : first + BATCH])
    if model.flush:
        await model.flush(conn)
    return len(rows)


async def _swap(
    conn: asyncpg.Connection,
    live: str,
    scratch: str,
    retired: str,
    model: ReadModel,
    since: datetime,
    progress: Callable[[str], None],
    attempts: int,
) -> tuple[int, float]:
    """Returns (events folded under the lock, seconds the lock was held)."""
    tables = ", ".join(f"{live}.{t}" for t in model.tables)
    for attempt in range(1, attempts + 1):
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                await conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
                locked_at = time.perf_counter()
                caught = await _catch_up(conn, live, scratch, model, since)
                if model.fix_up:
                    await model.fix_up(conn, live, scratch)
                await move_tables(conn, live, scratch, retired, model.tables)
                held = time.perf_counter() - locked_at
            return caught, held
        except asyncpg.LockNotAvailableError:
            progress(f"  writers busy: the swap waits (attempt {attempt} of {attempts})")
            await asyncio.sleep(0.5)
    raise TimeoutError(f"could not lock {tables} within {LOCK_TIMEOUT} in {attempts} attempts")
