"""Notifier in-process over real PostgreSQL (a database per test module, no Kafka): the real
app and routes through httpx, staff keys checked by intake's real app, the other services'
events through the notifier's real consumer path, and the owed messages sent by the real
sender, on the test's call, to a real SMTP sink and a real webhook receiver of the test's
own. What the notifier published is read from its outbox."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import ApiKeys
from tests.fixtures.backends import fresh_database
from tests.inprocess.service_harness import (
    ConsumerPath,
    intake_introspection,
    open_service,
    outbox,
)
from tidekit.clock import ManualClock
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidemark_devstack.common import free_port
from tidemark_devstack.smtp_sink import SmtpSink
from tidemark_notifier.app import create_app
from tidemark_notifier.sender import Sender
from tidemark_notifier.settings import NotifierSettings

from .receiver import Receiver, start_receiver

CHAT_SECRET = "chat-hook-secret-1b7e"
ALERT_SECRET = "alert-hook-secret-93c2"
GIVE_UP_SECONDS = 2.0  # from the first failure: room for three attempts at 0.2 s backoff
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def notifier_db(_postgres: tuple[str, object]) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_notifier_inproc") as url:
        yield url


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path / "mail", free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec, server = start_receiver()
    yield rec
    server.shutdown()


@dataclass
class Notifier:
    http: httpx.AsyncClient  # the app; requests carry an agent's key unless told otherwise
    consumer: ConsumerPath
    sender: Sender
    sink: SmtpSink
    receiver: Receiver
    keys: ApiKeys
    clock: ManualClock
    pool: asyncpg.Pool

    async def deliver(self, *events: DomainEvent) -> list[Envelope]:
        """The other services' events, as the notifier's consumer handles them."""
        return await self.consumer.deliver(*events)

    async def notifications(self, tid: str) -> Rows:
        response = await self.http.get("/v1/notifications", params={"tid": tid})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def send_until(
        self, tid: str, until: Callable[[Rows], bool], timeout: float = 15
    ) -> Rows:
        """Run the sender (what its loop does when woken) until the ticket's rows match.
        Retries are due on the real clock after their backoff (fractions of a second here),
        so a row being retried takes a few rounds."""
        deadline = time.monotonic() + timeout
        while True:
            await self.sender.send_due(self.consumer.runtime)
            rows = await self.notifications(tid)
            if until(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"notifications of {tid} never matched; last: {rows}")
            await asyncio.sleep(0.05)

    async def all_sent(self, tid: str) -> Rows:
        return await self.send_until(
            tid, lambda r: bool(r) and all(x["state"] == "sent" for x in r)
        )

    def mails(self, tid: str, to: str) -> list[EmailMessage]:
        """The sink's mails about `tid` to `to` (all there once their rows are sent)."""
        return [
            m for m in self.sink.messages() if m["X-Tidemark-TID"] == tid and str(m["To"]) == to
        ]

    async def published(self, tid: str) -> list[Envelope]:
        return await outbox(self.pool, tid)


@pytest.fixture
async def notifier(
    notifier_db: str,
    keys_db: str,
    keys: ApiKeys,
    sink: SmtpSink,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Notifier]:
    # From the environment, as the process reads it: the structured settings are JSON there.
    env = {
        "TIDEMARK_DATABASE_URL": notifier_db,
        "TIDEMARK_NOTIFIER_CLOCK": "manual:2026-11-27T15:00:00Z",
        "TIDEMARK_NOTIFIER_SMTP_PORT": str(sink.port),
        "TIDEMARK_NOTIFIER_CHANNEL_WEBHOOKS": json.dumps(
            {"chat": {"url": receiver.url("/chat"), "secret": CHAT_SECRET, "also_email": True}}
        ),
        "TIDEMARK_NOTIFIER_ALERT_WEBHOOKS": json.dumps(
            {"tier2": {"url": receiver.url("/alerts/tier2"), "secret": ALERT_SECRET}}
        ),
        "TIDEMARK_NOTIFIER_QUEUE_EMAILS": json.dumps(
            {"tier1": "tier1@desk.example", "tier2": "tier2@desk.example"}
        ),
        "TIDEMARK_NOTIFIER_CUSTOMER_TIME_ZONES": json.dumps({"example.de": "Europe/Berlin"}),
        "TIDEMARK_NOTIFIER_RETRY_INITIAL_SECONDS": "0.2",
        "TIDEMARK_NOTIFIER_RETRY_MAX_SECONDS": "0.8",
        "TIDEMARK_NOTIFIER_GIVE_UP_AFTER_SECONDS": str(GIVE_UP_SECONDS),
        "TIDEMARK_NOTIFIER_WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = NotifierSettings()
    app = create_app(settings)
    sender = Sender(settings)  # the sender create_app runs as a worker, driven by the test
    async with intake_introspection(keys_db) as introspection:
        pool = await open_service(app, settings, keys, introspection)
        [spec] = app.state.runtime.consumers
        transport = httpx.ASGITransport(app=app)  # no lifespan: no Kafka, relay or loops
        headers = {"X-Api-Key": keys.agent}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifier", headers=headers
        ) as http:
            clock = app.state.runtime.clock
            assert isinstance(clock, ManualClock)
            yield Notifier(
                http, ConsumerPath(app.state.runtime, spec), sender, sink, receiver, keys,
                clock, pool,
            )  # fmt: skip
        await sender.mailer.close()
        await sender.webhooks.close()
        await pool.close()


def new_tid() -> str:
    return f"TID-{uuid.uuid4().int % 10**9 + 9 * 10**9}"
