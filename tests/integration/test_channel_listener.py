"""tidekit.store.listen against a real PostgreSQL: a notification committed by another
connection reaches the listener; a lost connection is reported as a gap and healed."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tidekit.store.listen import ChannelListener

pytestmark = pytest.mark.integration


async def test_committed_notifications_arrive_and_a_lost_connection_is_a_gap(
    database_url: str,
) -> None:
    channel = f"test_{uuid.uuid4().hex[:8]}"
    heard: asyncio.Queue[str] = asyncio.Queue()
    gaps: list[int] = []
    listener = ChannelListener(channel, heard.put_nowait, lambda: gaps.append(1))
    connections: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        conn = await asyncpg.connect(database_url)
        connections.append(conn)
        return conn

    task = asyncio.create_task(listener.run(connect))
    writer = await asyncpg.connect(database_url)
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        async with writer.transaction():
            await writer.execute("SELECT pg_notify($1, 'first')", channel)
            assert heard.empty()  # not before the commit
        assert await asyncio.wait_for(heard.get(), 5) == "first"

        gaps_before = len(gaps)
        # The server ends the listening session (as a restart or failover would).
        pid = connections[-1].get_server_pid()
        await writer.execute("SELECT pg_terminate_backend($1)", pid)
        async with asyncio.timeout(10):
            while len(connections) < 2 or not listener.listening.is_set():
                await asyncio.sleep(0.05)
        assert len(gaps) >= gaps_before + 2  # once on losing it, once on listening again
        await writer.execute("SELECT pg_notify($1, 'second')", channel)
        assert await asyncio.wait_for(heard.get(), 5) == "second"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await writer.close()
