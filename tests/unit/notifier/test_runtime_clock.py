"""The sender records when a message was sent or given up by the runtime clock (a test
can set it far from real time), with stand-ins for the database and the event store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from tidekit.clock import ManualClock
from tidekit.events.notifier import NotificationFailed, NotificationSent
from tidekit.messaging.uow import UnitOfWork
from tidemark_notifier.outcome import Outcome
from tidemark_notifier.sender import Sender
from tidemark_notifier.settings import NotifierSettings

FAR_AWAY = datetime(2041, 3, 4, 5, 6, 7, tzinfo=UTC)


class StandInConn:
    def __init__(self, as_claimed: bool = True) -> None:
        self.executed: list[tuple[str, tuple[Any, ...]]] = []
        self.as_claimed = as_claimed

    async def fetchval(self, sql: str, *args: Any) -> bool | None:
        self.executed.append((sql, args))
        return True if self.as_claimed else None  # UPDATE … RETURNING true: a row, or none


def owed_row() -> dict[str, Any]:
    return {
        "tid": "TID-1",
        "notification_id": uuid.uuid4(),
        "cause_event_id": uuid.uuid4(),
        "correlation_id": None,
        "kind": "acknowledgement",
        "channel": "email",
        "recipient": "ada@example.com",
        "message_id": "<m-1@tidemark.invalid>",
        "attempts": 0,
        "first_failed_at": None,
    }


@pytest.mark.parametrize("outcome", [Outcome.ok(), Outcome.permanent("550 no such user")])
async def test_sent_and_failed_times_come_from_the_runtime_clock(outcome: Outcome) -> None:
    conn = StandInConn()
    store = SimpleNamespace(clock=ManualClock(FAR_AWAY))
    uow = UnitOfWork(conn, store)  # type: ignore[arg-type]
    sender = Sender(NotifierSettings())
    await sender.settle(uow, owed_row(), outcome)  # type: ignore[arg-type]
    (event,) = uow.pending
    if outcome.delivered:
        assert isinstance(event, NotificationSent) and event.sent_at == FAR_AWAY
        (_, args), *_ = conn.executed
        assert FAR_AWAY in args, "the notifications row's sent_at is the event's"
    else:
        assert isinstance(event, NotificationFailed) and event.failed_at == FAR_AWAY


@pytest.mark.parametrize(
    "outcome", [Outcome.ok(), Outcome.permanent("550"), Outcome.temporary("421")]
)
async def test_an_outcome_recorded_already_is_not_recorded_again(outcome: Outcome) -> None:
    """A record whose commit answer the connection lost is retried; the row is no longer as
    claimed (sent, failed, or one attempt further), so neither it nor an event is written."""
    conn = StandInConn(as_claimed=False)
    uow = UnitOfWork(conn, SimpleNamespace(clock=ManualClock(FAR_AWAY)))  # type: ignore[arg-type]
    await Sender(NotifierSettings()).settle(uow, owed_row(), outcome)  # type: ignore[arg-type]
    assert uow.pending == []
    ((sql, args),) = conn.executed  # one write, conditional on the claim
    assert "state = 'pending' AND attempts = $6" in sql and args[5] == 0
