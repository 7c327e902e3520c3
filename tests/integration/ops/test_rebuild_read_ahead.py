"""tidekit.store.rebuild with a read model whose `apply` only folds in memory
(`apply_in_memory`): the next batch is read while one is folded, yet every event is folded
once and in order, and a fold that fails leaves the rebuild's error (not the connection's
"another operation is in progress") with the live table untouched and the connection usable.
The cyclic garbage collector, paused for the fold, runs again afterwards."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tidekit.clock import SystemClock
from tidekit.events import registry
from tidekit.events.intake import TicketRated
from tidekit.store import rebuild as rebuild_module
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations
from tidekit.store.rebuild import Batch, ReadModel, rebuild, replace_rows

pytestmark = pytest.mark.integration
SOURCE = """SELECT event_id, 'own' AS origin, event_type, schema_version, data, recorded_at,
                   position AS n FROM events"""
EVENTS = 23  # batches of 5 (patched below): four full ones and a short last one


class FoldFailed(RuntimeError):
    pass


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    schema = f"ra_{uuid.uuid4().hex[:10]}"
    c = await asyncpg.connect(database_url)
    await apply_migrations(c, schema, [CORE_MIGRATIONS])
    await c.execute(f"SET search_path TO {schema}")
    await c.execute("CREATE TABLE ratings (tid text PRIMARY KEY, stars int NOT NULL)")
    store = EventStore(source="t", topic="t", registry=registry, clock=SystemClock())
    async with c.transaction():
        for n in range(EVENTS):
            rated = TicketRated(tid=f"TID-{n}", rating=1 + n % 5, rated_at=datetime.now(UTC))
            await store.append(c, f"TID-{n}", 0, [rated])
        await c.execute("INSERT INTO ratings VALUES ('TID-live', 5)")  # no event: goes
    yield c
    await c.execute(f"DROP SCHEMA IF EXISTS {schema}_rebuild CASCADE")
    await c.execute(f"DROP SCHEMA {schema} CASCADE")
    await c.close()


def _model(folded: list[str], fail_at_batch: int | None = None) -> ReadModel:
    batches = 0

    async def apply(conn: asyncpg.Connection, rows: Batch) -> None:
        nonlocal batches
        batches += 1
        if batches == fail_at_batch:
            raise FoldFailed(f"batch {batches}")
        folded.extend(json.loads(r["data"])["tid"] for r in rows)

    async def flush(conn: asyncpg.Connection) -> None:
        stars = {tid: 1 + int(tid.removeprefix("TID-")) % 5 for tid in folded}
        await replace_rows(conn, "ratings", "tid", list(stars), ("tid", "stars"),
                           list(stars.items()))  # fmt: skip

    return ReadModel(["ratings"], SOURCE, apply, flush, apply_in_memory=True)


async def _stars(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["tid"]: r["stars"] for r in await conn.fetch("SELECT tid, stars FROM ratings")}


async def test_reading_ahead_folds_every_event_once_in_order(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild_module, "BATCH", 5)
    schema = str(await conn.fetchval("SELECT current_schema()"))
    in_order = "SELECT stream_id FROM events ORDER BY recorded_at, position"
    recorded = [r["stream_id"] for r in await conn.fetch(in_order)]
    folded: list[str] = []

    report = await rebuild(conn, schema, _model(folded), lambda _: None)
    await conn.execute(f"SET search_path TO {schema}")

    assert report.events == EVENTS
    assert folded == recorded
    assert await _stars(conn) == {f"TID-{n}": 1 + n % 5 for n in range(EVENTS)}
    assert gc.isenabled()


async def test_a_fold_that_fails_while_the_next_batch_is_read_leaves_its_own_error(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild_module, "BATCH", 5)
    schema = str(await conn.fetchval("SELECT current_schema()"))
    before = await _stars(conn)

    with pytest.raises(FoldFailed, match="batch 2"):
        await rebuild(conn, schema, _model([], fail_at_batch=2), lambda _: None)

    assert await conn.fetchval("SELECT 1") == 1  # the connection is usable
    await conn.execute(f"SET search_path TO {schema}")
    assert await _stars(conn) == before  # nothing swapped in
    assert gc.isenabled()
