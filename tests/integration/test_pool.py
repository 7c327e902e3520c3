"""The services' pool hands a connection on without asyncpg's reset query (a round trip
and four commands per release), and that is safe: what the query would undo is never left
on a pooled connection, and an open transaction is still rolled back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tidekit.store.pool import create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The services' pool, with one connection: each acquire gets the same one back."""
    pool = await create_pool(
        database_url, schema="public", application_name="pool-test", min_size=1, max_size=1
    )
    yield pool
    await pool.close()


async def _last_statement(database_url: str, pid: int) -> str:
    admin = await asyncpg.connect(database_url)
    try:
        query: str = await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        return query
    finally:
        await admin.close()


async def test_a_released_connection_gets_no_reset_query(
    pool: asyncpg.Pool, database_url: str
) -> None:
    async with pool.acquire() as conn:
        pid = conn.get_server_pid()
        async with conn.transaction():
            await conn.execute("SELECT 41 + 1")
    # pg_stat_activity shows a backend's last statement: the COMMIT, not a reset.
    assert await _last_statement(database_url, pid) == "COMMIT;"


async def test_a_transaction_left_open_is_rolled_back_on_release(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS left_open (n int)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO left_open VALUES (1)")
    async with pool.acquire() as conn:  # the same (only) connection
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM left_open") == 0
