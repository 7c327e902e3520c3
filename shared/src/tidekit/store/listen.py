"""Postgres LISTEN on one channel, kept up for the life of a service.

For caches that must learn of a change made by another replica (e.g. an API key revoked):
the writer runs `SELECT pg_notify(channel, payload)` in its transaction, and Postgres
delivers the payload to every listener once that transaction commits. Notifications sent
while no connection was listening are lost, so each time listening (re)starts, and each
time it stops, `on_gap` is called: a cache then forgets everything it holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from tidekit.errors import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


class ChannelListener:
    def __init__(
        self,
        channel: str,
        on_notify: Callable[[str], None],
        on_gap: Callable[[], None],
    ) -> None:
        self.channel = channel
        self._on_notify = on_notify
        self._on_gap = on_gap
        self.listening = asyncio.Event()  # set while notifications are being received

    async def run(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        """Listen until cancelled, reconnecting with a capped backoff when the connection
        or the database goes away."""
        backoff = 0.2
        while True:
            try:
                await self._listen_once(await connect())
            except TRANSIENT_ERRORS as exc:
                log.warning(
                    "listener waiting for the database",
                    extra={"channel": self.channel, "error": repr(exc)},
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _listen_once(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()

        def notified(_c: object, _pid: int, _channel: str, payload: str) -> None:
            self._on_notify(payload)

        conn.add_termination_listener(lambda _c: lost.set())
        try:
            await conn.add_listener(self.channel, notified)
            self._on_gap()  # whatever changed before this point was not heard
            self.listening.set()
            while not lost.is_set():
                # A dropped TCP connection is not always reported: probe it now and then.
                try:
                    await asyncio.wait_for(lost.wait(), timeout=10)
                except TimeoutError:
                    await conn.fetchval("SELECT 1", timeout=5)
        finally:
            self.listening.clear()
            self._on_gap()
            if not conn.is_closed():
                conn.terminate()
