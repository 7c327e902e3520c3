"""The sender records each delivery before it delivers the next (issue 19's chaos run).

A notifier killed, or its database lost, between the SMTP server's acceptance and the
notifier's own record delivers that message once more with the same Message-ID. With a
whole batch delivered in one transaction, one kill re-sent up to 50 messages (the chaos
run saw 98 copies for one kill); one at a time, at most the one in flight."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from tidekit.clock import SystemClock
from tidemark_notifier.outcome import Outcome
from tidemark_notifier.sender import Sender
from tidemark_notifier.settings import NotifierSettings

from .test_runtime_clock import StandInStore, owed_row


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
    }


class StandInDatabase:
    """Hands out the due rows as FOR UPDATE SKIP LOCKED would (each once, up to LIMIT) and
    logs the commits of transactions that took rows, in order with the deliveries."""

    def __init__(self, rows: list[dict[str, Any]], log: list[str]) -> None:
        self.rows, self.log, self.took = rows, log, False

    async def fetch(self, sql: str, limit: int) -> list[dict[str, Any]]:
        taken, self.rows = self.rows[:limit], self.rows[limit:]
        self.took = bool(taken)
        return taken

    async def execute(self, sql: str, *args: Any) -> None:
        pass

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.took = False
        yield
        if self.took:
            self.log.append("commit")

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[StandInDatabase]:
        yield self


class LoggingMailer:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def deliver(self, message: Any) -> Outcome:
        self.log.append(f"deliver {message['Message-ID']}")
        return Outcome.ok()

    async def close(self) -> None:
        pass


async def test_each_delivery_is_committed_before_the_next_is_delivered() -> None:
    log: list[str] = []
    database = StandInDatabase([due_row(1), due_row(2), due_row(3)], log)
    runtime = SimpleNamespace(
        clock=SystemClock(),
        store=StandInStore(),
        require_pool=lambda: database,
        wake_relay=lambda: None,
    )
    sender = Sender(NotifierSettings())
    sender.mailer = LoggingMailer(log)  # type: ignore[assignment]
    sent = await sender.send_due(runtime)  # type: ignore[arg-type]
    assert sent == 3
    assert log == [
        "deliver <m-1@tidemark.invalid>",
        "commit",
        "deliver <m-2@tidemark.invalid>",
        "commit",
        "deliver <m-3@tidemark.invalid>",
        "commit",
    ]
