"""Commands: each handled in a unit of work of its own, under the one retry policy.

Routes (and intake's SMTP listener) parse and authorize, then `await bus.handle(command)`;
the handler decides and writes through its unit of work. A conflict or a transient error
runs the whole command again (load, decide, write) up to the policy's attempts; then the
error reaches the caller (HTTP: 503 with Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from tidekit.events.envelope import Cause
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import unit_of_work
from tidekit.retry import COMMANDS, RetryPolicy
from tidekit.store.eventstore import EventStore


class MessageBus:
    def __init__(
        self,
        handlers: HandlerRegistry,
        *,
        pool: Callable[[], asyncpg.Pool],
        store: EventStore,
        wake_relay: Callable[[], None],
        policy: RetryPolicy = COMMANDS,
    ) -> None:
        self.handlers = handlers
        self._pool = pool  # asked at each attempt: the database may come up in between
        self._store = store
        self._wake_relay = wake_relay
        self.policy = policy

    async def handle(self, command: object, *, cause: Cause | None = None) -> Any:
        handler = self.handlers.handler_for(command)
        one_statement = self.handlers.writes_in_one_statement(command)

        async def attempt() -> Any:
            async with unit_of_work(
                self._pool(), self._store, self._wake_relay, cause=cause,
                one_statement=one_statement,
            ) as uow:  # fmt: skip
                return await handler(command, uow)

        return await self.policy.run(attempt)
