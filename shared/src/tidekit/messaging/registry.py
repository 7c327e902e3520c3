"""Which function handles which message, registered once in a service's wiring.

A handler is a plain async function `(message, uow)`: an event consumed from Kafka or a
command from an HTTP route or the SMTP listener, and the unit of work it writes through.
Commands may return a result for their caller; events return nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from tidekit.events import registry as events
from tidekit.events.base import DomainEvent
from tidekit.messaging.uow import UnitOfWork

M = TypeVar("M")
Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]


class UnhandledMessage(LookupError):
    """No handler is registered for this message's type (a wiring mistake)."""


class HandlerRegistry:
    def __init__(self, handlers: Mapping[type, Handler] | None = None) -> None:
        self._handlers: dict[type, Handler] = dict(handlers or {})
        self._one_statement: set[type] = set()

    def register(
        self,
        message_type: type[M],
        handler: Callable[[M, UnitOfWork], Awaitable[Any]],
        *,
        one_statement: bool = False,
    ) -> None:
        """`one_statement`: the handler writes only through its unit of work, which then
        sends its writes in one statement without a transaction (uow.py)."""
        if message_type in self._handlers:
            raise ValueError(f"{message_type.__name__} already has a handler")
        self._handlers[message_type] = handler
        if one_statement:
            self._one_statement.add(message_type)

    def writes_in_one_statement(self, message: object) -> bool:
        return type(message) in self._one_statement

    def register_events(
        self,
        event_types: Iterable[str],
        handler: Callable[[DomainEvent, UnitOfWork], Awaitable[Any]],
    ) -> None:
        """One handler for several events, by name (`ticket.resolved`, …): a service that
        folds them all alike."""
        for name in event_types:
            self.register(events.model_for(name), handler)

    def handler_for(self, message: object) -> Handler:
        try:
            return self._handlers[type(message)]
        except KeyError:
            raise UnhandledMessage(f"no handler for {type(message).__name__}") from None

    async def handle(self, message: object, uow: UnitOfWork) -> Any:
        return await self.handler_for(message)(message, uow)

    def event_types(self) -> set[str]:
        """The names (`ticket.submitted`, …) of the events handled: what a consumer reads."""
        return {t.event_type for t in self._handlers if issubclass(t, DomainEvent)}

    def handles_event(self, event_type: str) -> bool:
        return event_type in self.event_types()
