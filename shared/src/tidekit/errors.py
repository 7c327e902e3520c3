"""Which failures are a dependency being away (retry, answer 503) and which are bugs."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionRefusedError and socket errors
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    # A connection the server terminated (a fast shutdown, a failover) that is then used
    # for COMMIT, ROLLBACK or the pool's reset can fail with "cannot switch to state N;
    # another operation is in progress" (MagicStack/asyncpg#784) instead of a connection
    # error; the pool terminates that connection, so a retry gets a fresh one.
    asyncpg.InternalClientError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)


class DependencyUnavailable(Exception):
    """A dependency (Postgres or Kafka) is not reachable right now; clients should retry."""

    def __init__(self, what: str, retry_after: int = 5) -> None:
        super().__init__(f"{what} is unavailable")
        self.what = what
        self.retry_after = retry_after
