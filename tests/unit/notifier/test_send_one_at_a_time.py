"""The sender records each delivery before it hands over the next (issue 19's chaos run).

A notifier killed between the SMTP server's acceptance and the notifier's own record
delivers that message once more with the same Message-ID. With a whole batch delivered in
one transaction, one kill re-sent up to 50 messages (the chaos run saw 98 copies for one
kill); one at a time, at most the one in flight. The claim that comes first is committed on
its own, so a lost database costs no copy (tests/inprocess/notifier, lost mid-send)."""

from __future__ import annotations

import contextlib
import email
import json
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from tidekit.clock import SystemClock
from tidemark_notifier.outcome import Outcome
from tidemark_notifier.sender import Sender
from tidemark_notifier.settings import NotifierSettings

from .test_runtime_clock import owed_row


class StandInStore:
    """The event store's part a unit of work uses: its clock, and a write that keeps nothing
    but logs a record's commit (a sent row's write goes with its event, one statement)."""

    clock = SystemClock()

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def write(self, conn: Any, writes: Any, **kw: Any) -> list[Any]:
        for staged in kw.get("table_writes", ()):
            # The record writes the row only as claimed: still pending, the same attempts.
            assert "state = 'pending' AND attempts = $6" in staged.sql and staged.required
            assert staged.args[5] == owed_row()["attempts"]
            self.log.append("commit")
        return [object()]  # an event written: the relay has something to publish


def due_row(n: int) -> dict[str, Any]:
    return {
        **owed_row(),
        "notification_id": uuid.uuid4(),
        "message_id": f"<m-{n}@tidemark.invalid>",
        "subject": f"[TID-1] message {n}",
        "body": "text",
        "html": None,
        "headers": "{}",
        "audience": "customer",
        "trace": json.dumps({}),
        "created_at": n,  # the order they were owed in
    }


class StandInDatabase:
    """Hands out due rows as the claim's FOR UPDATE SKIP LOCKED would (each once, up to its
    LIMIT) and logs, in order with the deliveries, the claims (each one statement, committed
    as it returns: the sender opens no transaction around it)."""

    def __init__(self, rows: list[dict[str, Any]], log: list[str]) -> None:
        self.rows, self.log = rows, log

    async def fetch(self, sql: str, limit: int, lease: float) -> list[dict[str, Any]]:
        assert "FOR UPDATE SKIP LOCKED" in sql and lease > 0
        taken, self.rows = self.rows[:limit], self.rows[limit:]
        if taken:
            self.log.append("claim")
        return taken

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[StandInDatabase]:
        yield self


class LoggingMailer:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def deliver(self, message: Any, before_data: Any) -> Outcome:
        message_id = email.message_from_bytes(message.as_bytes())["Message-ID"]
        self.log.append(f"envelope {message_id}")
        await before_data()
        self.log.append(f"data {message_id}")
        return Outcome.ok()

    async def close(self) -> None:
        pass


def stand_in_runtime(database: StandInDatabase, log: list[str], *, wakes: bool = True) -> Any:
    """The runtime a sender uses, over the stand-in database and store; the relay's wake-ups
    go to `log` when `wakes`."""
    return SimpleNamespace(
        clock=StandInStore.clock,
        store=StandInStore(log),
        require_pool=lambda: database,
        wake_relay=(lambda: log.append("wake relay")) if wakes else (lambda: None),
    )


def logging_sender(log: list[str], send_concurrency: int = 1) -> Sender:
    sender = Sender(NotifierSettings(send_concurrency=send_concurrency))
    sender.mailer = LoggingMailer(log)  # type: ignore[assignment]
    return sender


async def test_each_delivery_is_committed_before_the_next_is_delivered() -> None:
    """...while the next one's envelope goes out (its DATA waits for the commit), and the
    relay is woken once for the claim's records, after them, not per message."""
    log: list[str] = []
    database = StandInDatabase([due_row(1), due_row(2), due_row(3)], log)
    runtime = stand_in_runtime(database, log)
    sender = logging_sender(log)
    sent = await sender.send_due(runtime)
    assert sent == 3
    assert log == [
        "claim",
        "envelope <m-1@tidemark.invalid>",
        "data <m-1@tidemark.invalid>",
        "envelope <m-2@tidemark.invalid>",
        "commit",
        "data <m-2@tidemark.invalid>",
        "envelope <m-3@tidemark.invalid>",
        "commit",
        "data <m-3@tidemark.invalid>",
        "commit",
        "wake relay",
    ]


async def test_lanes_send_side_by_side_each_message_once() -> None:
    log: list[str] = []
    database = StandInDatabase([due_row(n) for n in range(1, 6)], log)
    runtime = stand_in_runtime(database, log, wakes=False)
    sender = logging_sender(log, send_concurrency=2)
    assert await sender.send_due(runtime) == 5
    delivered = sorted(line for line in log if line.startswith("data"))
    assert delivered == [f"data <m-{n}@tidemark.invalid>" for n in range(1, 6)]
    assert log.count("commit") == 5


async def test_a_lane_claims_its_whole_batch_of_fifty_in_one_statement() -> None:
    """The claim is a statement on the sender's critical path (nothing is sent while it
    runs) and each claim wakes the relay: claims of 10 carried 4-23 % fewer messages a
    second than claims of 50 in five alternating pairs (docs/performance.md)."""
    log: list[str] = []
    database = StandInDatabase([due_row(n) for n in range(1, 61)], log)
    sender = logging_sender(log)
    assert await sender.send_due(stand_in_runtime(database, log)) == 50
    assert log.count("claim") == 1 and log.count("commit") == 50
    assert await sender.send_due(stand_in_runtime(database, log)) == 10
    assert log.count("claim") == 2
