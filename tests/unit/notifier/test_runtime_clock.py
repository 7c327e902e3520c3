"""The sender records when a message was sent or given up by the runtime clock (a test
can set it far from real time), with stand-ins for the database and the event store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tidekit.clock import ManualClock
from tidekit.events.notifier import NotificationFailed, NotificationSent
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.table_writes import TableWrite
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


class StandInStore:
    """The store's clock, and a write that keeps what it was given."""

    def __init__(self) -> None:
        self.clock = ManualClock(FAR_AWAY)
        self.table_writes: list[TableWrite] = []

    async def write(self, conn: Any, writes: Any, **kw: Any) -> list[Any]:
        self.table_writes += kw.get("table_writes", ())
        return []


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
    store = StandInStore()
    uow = UnitOfWork(StandInConn(), store)  # type: ignore[arg-type]
    sender = Sender(NotifierSettings())
    await sender.settle(uow, owed_row(), outcome)  # type: ignore[arg-type]
    (event,) = uow.pending
    await uow.flush()
    if outcome.delivered:
        assert isinstance(event, NotificationSent) and event.sent_at == FAR_AWAY
        (settled,) = store.table_writes
        assert FAR_AWAY in settled.args, "the notifications row's sent_at is the event's"
    else:
        assert isinstance(event, NotificationFailed) and event.failed_at == FAR_AWAY


@pytest.mark.parametrize(
    "outcome", [Outcome.ok(), Outcome.permanent("550"), Outcome.temporary("421")]
)
async def test_an_outcome_is_written_only_to_the_row_as_claimed(outcome: Outcome) -> None:
    """A record whose commit answer the connection lost is retried; the row is no longer as
    claimed (sent, failed, or one attempt further), so neither it nor an event is written:
    each write names the row as claimed, and a sent or failed row's write is the `required`
    one of its event's statement (tests/inprocess/notifier: the same against PostgreSQL)."""
    conn, store = StandInConn(as_claimed=False), StandInStore()
    uow = UnitOfWork(conn, store)  # type: ignore[arg-type]
    await Sender(NotifierSettings()).settle(uow, owed_row(), outcome)  # type: ignore[arg-type]
    await uow.flush()
    if outcome.retry:
        assert uow.pending == [] and store.table_writes == []
        ((sql, args),) = conn.executed  # one write, conditional on the claim
    else:
        assert conn.executed == []
        (settled,) = store.table_writes
        assert settled.required
        sql, args = settled.sql, settled.args
    assert "state = 'pending' AND attempts = $6" in sql and args[5] == 0
