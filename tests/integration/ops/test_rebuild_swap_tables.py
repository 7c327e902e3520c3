"""tidekit.store.rebuild's swap on a table with what intake's tickets do not have: a serial
key (its sequence must stay owned by the live table and go on counting), a named index and
a foreign key from a table that is not rebuilt (re-pointed at the new table, validated).
(A foreign key onto the serial key itself could not survive: the rebuild renumbers it.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tidekit.clock import SystemClock
from tidekit.events import registry
from tidekit.events.intake import TicketRated
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, apply_migrations
from tidekit.store.rebuild import Batch, ReadModel, rebuild

pytestmark = pytest.mark.integration
SOURCE = """SELECT event_id, 'own' AS origin, event_type, schema_version, data, recorded_at,
                   position AS n FROM events"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    schema = f"sw_{uuid.uuid4().hex[:10]}"
    c = await asyncpg.connect(database_url)
    await apply_migrations(c, schema, [CORE_MIGRATIONS])
    await c.execute(f"SET search_path TO {schema}")
    await c.execute(
        """CREATE TABLE ratings (id bigserial PRIMARY KEY, tid text NOT NULL UNIQUE,
                                 stars int NOT NULL);
           CREATE INDEX ratings_by_stars ON ratings (stars);
           CREATE TABLE remarks (tid text NOT NULL REFERENCES ratings (tid),
                                 note text NOT NULL)"""
    )
    yield c
    await c.execute(f"DROP SCHEMA {schema} CASCADE")
    await c.close()


async def _apply(conn: asyncpg.Connection, rows: Batch) -> None:
    for r in rows:
        data = json.loads(r["data"])
        await conn.execute(
            """INSERT INTO ratings (tid, stars) VALUES ($1, $2)
               ON CONFLICT (tid) DO UPDATE SET stars = excluded.stars""",
            data["tid"], data["rating"],
        )  # fmt: skip


async def test_swap_keeps_sequence_index_names_and_foreign_keys(conn: asyncpg.Connection) -> None:
    schema = str(await conn.fetchval("SELECT current_schema()"))
    store = EventStore(source="t", topic="t", registry=registry, clock=SystemClock())
    async with conn.transaction():
        for n in range(5):
            rated = TicketRated(tid=f"TID-{n}", rating=1 + n % 5, rated_at=datetime.now(UTC))
            await store.append(conn, f"TID-{n}", 0, [rated])
    async with conn.transaction():  # the live rows, as a projection would have written them
        await _apply(conn, await conn.fetch(SOURCE))
    await conn.execute("INSERT INTO remarks VALUES ('TID-0', 'kept')")
    indexes_before = await _index_names(conn, schema)

    report = await rebuild(conn, schema, ReadModel(["ratings"], SOURCE, _apply), lambda _: None)
    await conn.execute(f"SET search_path TO {schema}")

    assert report.events == 5
    assert await _index_names(conn, schema) == indexes_before
    stars = {r["tid"]: r["stars"] for r in await conn.fetch("SELECT tid, stars FROM ratings")}
    assert stars == {f"TID-{n}": 1 + n % 5 for n in range(5)}
    owner = await conn.fetchval(
        """SELECT d.refobjid::regclass::text FROM pg_depend d
           WHERE d.objid = pg_get_serial_sequence('ratings', 'id')::regclass
             AND d.deptype = 'a'"""
    )
    assert owner == "ratings"  # owned by the live (new) table: survives the old one's drop
    new_id = await conn.fetchval("INSERT INTO ratings (tid, stars) VALUES ('new', 5) RETURNING id")
    assert new_id > 10
    fk = await conn.fetchrow(
        "SELECT confrelid::regclass::text AS target, convalidated FROM pg_constraint "
        "WHERE conrelid = 'remarks'::regclass AND contype = 'f'"
    )
    assert fk is not None and fk["target"] == "ratings" and fk["convalidated"]
    with pytest.raises(asyncpg.ForeignKeyViolationError):  # and it holds
        await conn.execute("INSERT INTO remarks VALUES ('TID-404', 'no such rating')")


async def _index_names(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'ratings' "
        "ORDER BY indexname",
        schema,
    )
    return [r["indexname"] for r in rows]
