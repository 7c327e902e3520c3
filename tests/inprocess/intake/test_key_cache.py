"""API keys from each intake replica's memory, over real PostgreSQL: a cached key costs no
database read, and a key revoked through one replica (or the CLI) stops working on the
others as soon as the revocation commits, not when their cache entries age out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from tidemark_intake.access import keys
from tidemark_intake.access.verifier import KeyVerifier

pytestmark = pytest.mark.integration
AN_HOUR = 3600.0  # far beyond the test: only a notification can make a replica forget
IN_INTAKE = {"search_path": "intake"}


@pytest.fixture
async def pool(intake_db: str, intake_keys: object) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(
        intake_db, min_size=1, max_size=4, server_settings=IN_INTAKE
    ) as p:
        yield p


async def _replicas(
    pool: asyncpg.Pool, intake_db: str, n: int
) -> tuple[list[KeyVerifier], list[asyncio.Task[None]]]:
    def connect() -> Callable[[], Awaitable[asyncpg.Connection]]:
        return lambda: asyncpg.connect(intake_db)

    verifiers = [KeyVerifier(lambda: pool, AN_HOUR) for _ in range(n)]
    tasks = [asyncio.create_task(v.listener.run(connect())) for v in verifiers]
    for v in verifiers:
        await asyncio.wait_for(v.listener.listening.wait(), 10)
    return verifiers, tasks


async def test_a_revoked_key_stops_working_on_every_replica_at_once(
    pool: asyncpg.Pool, intake_db: str
) -> None:
    async with pool.acquire() as conn:
        info, plain = await keys.create_key(conn, name="chat-frontend", kind="frontend",
                                            channels=["chat"])  # fmt: skip
    replicas, tasks = await _replicas(pool, intake_db, 2)
    try:
        for replica in replicas:
            assert (await replica.authenticate(plain)) is not None  # now cached for an hour
        async with pool.acquire() as conn, conn.transaction():
            assert await keys.revoke_key(conn, info.key_id)
        async with asyncio.timeout(10):
            while any(r.cache.lookup(info.key_id) is not None for r in replicas):
                await asyncio.sleep(0.02)
        for replica in replicas:
            assert (await replica.authenticate(plain)) is None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_cached_key_is_checked_without_the_database(
    pool: asyncpg.Pool, intake_db: str
) -> None:
    async with pool.acquire() as conn:
        _, plain = await keys.create_key(conn, name="agent-x", kind="staff", role="agent")
    closed = await asyncpg.create_pool(intake_db, min_size=0, max_size=1, server_settings=IN_INTAKE)
    verifier = KeyVerifier(lambda: closed, AN_HOUR)
    first = await verifier.authenticate(plain)
    await closed.close()  # any further read would fail
    again = await verifier.authenticate(plain)
    assert first is not None and again == first
    wrong_secret = plain[: plain.rindex("_") + 1] + "x" * 43
    assert await verifier.authenticate(wrong_secret) is None  # the secret is still checked
