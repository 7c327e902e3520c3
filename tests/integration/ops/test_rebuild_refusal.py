"""`tidemark-ops rebuild` of a service that folds consumed events refuses, touching nothing,
when its record of them has a gap: events handled before it began recording them, or
handled (in the inbox) without being recorded."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings
from tidekit.store.consumed import CONSUMED_MIGRATIONS
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations

pytestmark = pytest.mark.integration
ESCALATION = MigrationSet("escalation", "tidemark_escalation")
INBOX = """INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
           VALUES ('tidemark.escalation.main', $1, 'tidemark.sla-timer.v1', 0, 0)"""


MADE: list[str] = []


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(database_url)
    try:
        yield c
    finally:
        while MADE:
            schema = MADE.pop()
            for leftover in (schema, f"{schema}_rebuild", f"{schema}_retired"):
                await c.execute(f"DROP SCHEMA IF EXISTS {leftover} CASCADE")
        await c.close()


async def _schema(conn: asyncpg.Connection, handled_before_recording: bool) -> str:
    schema = f"rf_{uuid.uuid4().hex[:10]}"
    MADE.append(schema)
    await apply_migrations(conn, schema, [CORE_MIGRATIONS])
    await conn.execute(f"SET search_path TO {schema}")
    if handled_before_recording:
        await conn.execute(INBOX, uuid.uuid4())
    await apply_migrations(conn, schema, [CORE_MIGRATIONS, CONSUMED_MIGRATIONS, ESCALATION])
    return schema


async def _rebuild(database_url: str, schema: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run(["rebuild", "escalation", "--schema", schema],
                     OpsSettings(database_url=database_url), out=out, err=out)  # fmt: skip
    return code, out.getvalue()


async def test_a_gap_in_the_consumed_events_is_refused(
    conn: asyncpg.Connection, database_url: str
) -> None:
    before = await _schema(conn, handled_before_recording=True)
    code, said = await _rebuild(database_url, before)
    assert code == 2
    assert "cannot rebuild" in said and "handled events before it began recording" in said

    unrecorded = await _schema(conn, handled_before_recording=False)
    await conn.execute(INBOX, uuid.uuid4())
    code, said = await _rebuild(database_url, unrecorded)
    assert code == 2
    assert "1 handled events are in its inbox but not in consumed_events" in said
    # refused before anything was made
    assert not await conn.fetchval(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rf_%_rebuild'"
    )

    await conn.execute("DELETE FROM inbox")  # complete (nothing handled): it goes ahead
    code, said = await _rebuild(database_url, unrecorded)
    assert code == 0, said
    assert "from 0 events" in said
