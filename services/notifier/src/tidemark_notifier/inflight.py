"""A lane's last delivered message while its record commits (sender.py).

At most one record per lane is in flight. Meanwhile the lane goes on: the next message's
envelope goes out, and so does the next claim when the record is a claim's last; the next
message's DATA waits for the record (`done`). A sender that dies therefore still leaves at
most one message per lane sent and not recorded.

The relay is woken once a claim's records are all in: one relay batch for the claim's
notification.sent / .failed events, not one per message (a relay batch is two statements
and a Kafka request, and every group reading the topic answers it with a fetch of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class RecordInFlight:
    def __init__(self, wake_relay: Callable[[], None]) -> None:
        self._wake_relay = wake_relay
        self._task: asyncio.Task[None] | None = None
        self._last_of_claim = False  # the relay is woken when it is in
        self._unannounced = 0  # records in since the relay was last woken
        self.recorded = 0

    def start(self, record: Coroutine[Any, Any, None]) -> None:
        """Record a delivered message; the previous record is `done` already."""
        if self._task is not None:
            raise RuntimeError("a record is in flight already")
        self._task = asyncio.create_task(record)

    async def done(self) -> None:
        """Wait for the record in flight, if any."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await task
        self.recorded += 1
        self._unannounced += 1
        if self._last_of_claim:
            self._last_of_claim = False
            self._announce()

    def claim_ended(self) -> None:
        """The claim's deliveries are over: the relay is woken once its records are in."""
        if self._task is not None:
            self._last_of_claim = True
        else:
            self._announce()

    async def finish(self, exc: BaseException) -> None:
        """The lane failed with `exc`: a delivered message's record goes on, unless the lane
        is being cancelled (shutting down), which ends it as it would end any statement."""
        try:
            if self._task is not None:
                if isinstance(exc, asyncio.CancelledError):
                    self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.done()
        finally:
            self._announce()

    def _announce(self) -> None:
        if self._unannounced:
            self._unannounced = 0
            self._wake_relay()
