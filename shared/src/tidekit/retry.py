"""One retry policy for every write: conflicts and transient errors, capped backoff + jitter.

A write that loses an optimistic race (ConcurrencyConflict) or meets a dependency being
away for a moment (TRANSIENT_ERRORS) is run again from the start: load, decide, write.
Commands try a bounded number of times, then the error reaches the caller (an HTTP route
answers 503 with Retry-After, an SMTP session a temporary failure). The Kafka consumer
must never skip a record, so it retries its batch forever, with the same `backoff`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.store.eventstore import ConcurrencyConflict

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE: tuple[type[BaseException], ...] = (ConcurrencyConflict, *TRANSIENT_ERRORS)


def backoff(
    attempt: int,
    *,
    base: float = 0.01,
    cap: float = 10.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1 = the first retry): between half
    and all of base * 2^(attempt-1), capped at `cap`. The jitter spreads writers that
    collided, so they do not collide again in step."""
    ceiling = min(base * 2.0 ** (max(attempt, 1) - 1), cap)
    return ceiling * (0.5 + rand() / 2)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int | None = 8  # the caller hears of the failure after this many; None: never
    base: float = 0.01
    cap: float = 10.0

    def delay(self, attempt: int) -> float:
        return backoff(attempt, base=self.base, cap=self.cap)

    async def run(
        self,
        work: Callable[[], Awaitable[T]],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """`work()` until it returns, at most `attempts` times; the last error propagates."""
        attempt = 1
        while True:
            try:
                return await work()
            except RETRYABLE as exc:
                if self.attempts is not None and attempt >= self.attempts:
                    raise
                log.warning("write retried", extra={"error": repr(exc), "attempt": attempt})
                await sleep(self.delay(attempt))
                attempt += 1


# Commands (HTTP, SMTP): quick retries, given up after a second or so in total.
COMMANDS = RetryPolicy(attempts=8, base=0.01, cap=0.5)
# A consumer's batch and background loops: retried until it goes through.
UNTIL_DONE = RetryPolicy(attempts=None, base=0.2, cap=10.0)
