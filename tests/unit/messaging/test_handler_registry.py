"""The handler registry: one function per message type, looked up by the message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tidekit.events.intake import TicketClosed, TicketRated
from tidekit.messaging.registry import HandlerRegistry, UnhandledMessage
from tidekit.messaging.uow import UnitOfWork


@dataclass(frozen=True)
class Shout:
    text: str


async def loud(command: Shout, uow: UnitOfWork) -> str:
    return command.text.upper()


async def noted(event: object, uow: UnitOfWork) -> None:
    return None


NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_command_reaches_its_handler_and_its_result_comes_back() -> None:
    handlers = HandlerRegistry()
    handlers.register(Shout, loud)
    assert handlers.handler_for(Shout("hi")) is loud
    assert await handlers.handle(Shout("hi"), uow=None) == "HI"  # type: ignore[arg-type]


def test_a_message_without_a_handler_is_a_wiring_error() -> None:
    with pytest.raises(UnhandledMessage, match="Shout"):
        HandlerRegistry().handler_for(Shout("hi"))


def test_a_type_is_registered_once() -> None:
    handlers = HandlerRegistry({Shout: loud})
    with pytest.raises(ValueError, match="already has a handler"):
        handlers.register(Shout, loud)


def test_events_by_name_and_what_a_consumer_reads() -> None:
    handlers = HandlerRegistry({Shout: loud})
    handlers.register_events(["ticket.rated", "ticket.closed"], noted)
    assert handlers.event_types() == {"ticket.rated", "ticket.closed"}  # not the command
    assert handlers.handles_event("ticket.rated")
    assert not handlers.handles_event("ticket.submitted")
    rated = TicketRated(tid="TID-1", rating=5, rated_at=NOW)
    assert handlers.handler_for(rated) is noted
    closed = TicketClosed(tid="TID-1", reason="duplicate", closed_by="ada", closed_at=NOW)
    assert handlers.handler_for(closed) is noted
