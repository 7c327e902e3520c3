"""The board's change feed: numbered rows in `board_changes`, written in the transaction of
the projection that made the change and announced with NOTIFY (delivered at commit, so a
listener never sees a change before its row can be read). Every replica listens, so a
page served by any replica updates, whichever replica's consumer handled the event.

A replica holds one LISTEN connection (`ChangeHub`); each open page (a Server-Sent Events
stream) waits on the hub, then reads the rows after the last number it sent. The number
is the SSE id, so a reconnecting browser's Last-Event-ID resumes where it stopped; the
stream also re-reads every few seconds, so a missed NOTIFY only delays an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.escalation import TicketQueued

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "tidemark_board_"  # + the service's schema: one channel per deployment


# A change row and its notification, one statement; {queue} is the queue's expression.
_CHANGE = """WITH c AS (INSERT INTO board_changes (kind, tid, queue, recorded_at)
                        SELECT $1, $2, {queue}, $3 RETURNING id)
             SELECT pg_notify($4 || current_schema(), id::text) FROM c"""
_GIVEN_QUEUE = _CHANGE.format(queue="$5::text")
_CURRENT_QUEUE = _CHANGE.format(queue="(SELECT queue FROM queue_entries WHERE tid = $2)")


async def record_change(
    conn: asyncpg.Connection, kind: str, tid: str, queue: str | None, now: datetime
) -> None:
    """`now` from the runtime clock: the retention worker prunes by that clock."""
    await conn.execute(_GIVEN_QUEUE, kind, tid, now, CHANNEL_PREFIX, queue)


async def record_change_in_current_queue(
    conn: asyncpg.Connection, kind: str, tid: str, now: datetime
) -> None:
    """`record_change` with the ticket's queue as this transaction sees it, read in the
    same statement (the handler holds the ticket's lock: nobody moves it meanwhile)."""
    await conn.execute(_CURRENT_QUEUE, kind, tid, now, CHANNEL_PREFIX)


async def record_decided(
    conn: asyncpg.Connection, decided: Iterable[DomainEvent], now: datetime
) -> None:
    """Escalation's own decisions that the board shows (a ticket queued or moved)."""
    for event in decided:
        if isinstance(event, TicketQueued):
            await record_change(conn, event.event_type, event.tid, event.queue, now)


async def changes_after(pool: asyncpg.Pool, after: int, limit: int = 200) -> list[Any]:
    return list(
        await pool.fetch(
            "SELECT id, kind, tid, queue FROM board_changes WHERE id > $1 ORDER BY id LIMIT $2",
            after,
            limit,
        )
    )


async def last_change(pool: asyncpg.Pool) -> int:
    found = await pool.fetchval("SELECT max(id) FROM board_changes")
    return int(found or 0)


class ChangeHub:
    """One LISTEN connection per replica, started with the first page that listens."""

    def __init__(self, database_url: str, schema: str) -> None:
        self._url = database_url
        self._schema = schema
        self._waiters: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Event:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="board-listen")
        wake = asyncio.Event()
        self._waiters.add(wake)
        return wake

    def unsubscribe(self, wake: asyncio.Event) -> None:
        self._waiters.discard(wake)

    def _notify(self, *_: Any) -> None:
        for wake in self._waiters:
            wake.set()

    async def _listen(self) -> None:
        channel = CHANNEL_PREFIX + self._schema
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._url)
                await conn.add_listener(channel, self._notify)
                self._notify()  # catch up on what was missed while not listening
                await _until_closed(conn)
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("board change listener lost its connection", extra={"error": repr(exc)})
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _until_closed(conn: asyncpg.Connection) -> None:
    closed = asyncio.Event()
    conn.add_termination_listener(lambda _conn: closed.set())
    await closed.wait()
