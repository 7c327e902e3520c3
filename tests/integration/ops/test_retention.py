"""Retention: the workers prune published outbox rows, inbox rows and Idempotency-Keys
older than their settings, batch by batch, by the runtime clock (unpublished outbox rows
and newer rows stay; two replicas pruning together neither fail nor wait), and
`tidemark-ops retention` reports what would go without deleting it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import uuid
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tidekit.clock import ManualClock
from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidekit.store.retention import retention_worker
from tidemark_intake.settings import IntakeSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    """A fresh schema with intake's tables (outbox, inbox, idempotency_keys)."""
    name = f"ret_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        intake = MigrationSet("intake", "tidemark_intake")
        await apply_migrations(conn, name, [CORE_MIGRATIONS, intake])
        yield name
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


async def fill(conn: asyncpg.Connection, schema: str) -> None:
    """Outbox: 3 published 8 days ago, 2 published 1 day ago, 2 never published (created 10
    days ago). Inbox: 2 handled 31 days ago, 1 29 days ago. Keys: 1 of 25 h, 1 of 1 h."""

    async def outbox(created: datetime, published: datetime | None) -> None:
        await conn.execute(
            f"""INSERT INTO {schema}.outbox (event_id, topic, record_key, record_value, headers,
                                              created_at, published_at)
                VALUES ($1, 't', 'k', 'v', '[]', $2, $3)""",
            uuid.uuid4(), created, published,
        )  # fmt: skip

    for _ in range(3):
        await outbox(NOW - 8 * DAY, NOW - 8 * DAY)
    for _ in range(2):
        await outbox(NOW - DAY, NOW - DAY)
    for _ in range(2):
        await outbox(NOW - 10 * DAY, None)
    for age in (31, 31, 29):
        await conn.execute(
            f"""INSERT INTO {schema}.inbox (consumer, event_id, topic, kafka_partition,
                                             kafka_offset, handled_at)
                VALUES ('c', $1, 't', 0, 0, $2)""",
            uuid.uuid4(), NOW - age * DAY,
        )  # fmt: skip
    for key, hours in (("old-key", 25), ("new-key", 1)):
        await conn.execute(
            f"INSERT INTO {schema}.idempotency_keys (key, request_hash, created_at) "
            "VALUES ($1, 'h', $2)",
            key, NOW - timedelta(hours=hours),
        )  # fmt: skip


async def counts(pool: asyncpg.Pool, schema: str) -> dict[str, int]:
    return {
        "published": await pool.fetchval(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NOT NULL"
        ),
        "unpublished": await pool.fetchval(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"
        ),
        "inbox": await pool.fetchval(f"SELECT count(*) FROM {schema}.inbox"),
        "keys": await pool.fetchval(f"SELECT count(*) FROM {schema}.idempotency_keys"),
    }


async def until_counts(pool: asyncpg.Pool, schema: str, expected: dict[str, int]) -> None:
    """Wait (a positive signal: the rows' counts) for the workers to reach `expected`."""
    found: dict[str, int] = {}
    for _ in range(400):
        found = await counts(pool, schema)
        if found == expected:
            return
        await asyncio.sleep(0.05)
    assert found == expected


async def test_workers_prune_what_is_past_its_retention_and_keep_the_rest(
    database_url: str, schema: str
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=4)
    clock = ManualClock(NOW)
    rules = IntakeSettings(database_url=database_url, env="development").retention_rules()

    # Two replicas' workers at once, 2 rows per DELETE: the 3 expired outbox rows take two.
    def replica() -> Coroutine[Any, Any, None]:
        hourly = timedelta(hours=1)
        return retention_worker(pool, schema, rules, clock, interval=hourly, batch_size=2,
                                pause=0.01)  # fmt: skip

    workers = [asyncio.create_task(replica()) for _ in range(2)]
    try:
        async with pool.acquire() as conn:
            await fill(conn, schema)
        clock.advance(timedelta(hours=1))  # the next round, with the rows in place
        expected = {"published": 2, "unpublished": 2, "inbox": 1, "keys": 1}
        await until_counts(pool, schema, expected)
        assert (
            await pool.fetchval(
                f"SELECT count(*) FROM {schema}.idempotency_keys WHERE key = 'new-key'"
            )
            == 1
        )

        # A week later the rest is old too, but a row never published still stays.
        clock.advance(7 * DAY)
        expected = {"published": 0, "unpublished": 2, "inbox": 0, "keys": 0}
        await until_counts(pool, schema, expected)
        for worker in workers:
            assert not worker.done(), worker  # neither replica's worker failed
    finally:
        for worker in workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await pool.close()


async def test_ops_retention_reports_what_would_go_and_deletes_nothing(
    database_url: str, schema: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await fill(conn, schema)
    finally:
        await conn.close()
    settings = OpsSettings(database_url=database_url, clock=f"manual:{NOW.isoformat()}")
    out = io.StringIO()
    code = await run(["retention", "--service", "intake", "--schema", schema], settings, out, out)
    said = out.getvalue()
    assert code == 0, said
    table = {
        m.group(1): (int(m.group(2)), int(m.group(3)), m.group(4))
        for m in re.finditer(r"^intake\s+(\w+)\s+.*?\s(\d+)\s+(\d+)\s+(\S+)$", said, re.M)
    }
    day_ago = (NOW - DAY).isoformat(timespec="seconds")
    assert table == {
        "outbox": (3, 4, day_ago),
        "inbox": (2, 1, (NOW - 29 * DAY).isoformat(timespec="seconds")),
        "idempotency_keys": (1, 1, (NOW - timedelta(hours=1)).isoformat(timespec="seconds")),
    }, said
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        assert await counts(pool, schema) == {
            "published": 5, "unpublished": 2, "inbox": 3, "keys": 2,
        }  # fmt: skip
    finally:
        await pool.close()
