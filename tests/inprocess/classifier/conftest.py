"""Classifier in-process over real PostgreSQL (no Kafka, no processes): the real app and
routes through httpx, staff keys checked by intake's real app, a manual clock the test
moves, `ticket.submitted` handed to the classifier's real consumer path (inbox, handler,
events and outbox rows in one transaction), and what it decided read from its tables,
event store and outbox.

One database per test module (tickets and licenses get random ids); a fresh app and
clock per test."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import ApiKeys
from tests.fixtures.backends import fresh_database
from tests.inprocess.service_harness import ConsumerPath, serve_in_process
from tidekit.clock import ManualClock
from tidekit.events.envelope import Envelope
from tidekit.events.intake import Product, Requester, TicketSubmitted
from tidekit.runtime import ServiceRuntime
from tidemark_classifier.app import create_app
from tidemark_classifier.settings import ClassifierSettings

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # every test's clock starts here


@pytest.fixture(scope="module")
def classifier_db(_postgres: tuple[str, object]) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_cls_inproc") as url:
        yield url


def new_tid() -> str:
    return f"TID-{random.randrange(10**12, 10**13)}"


def new_key(prefix: str = "LIC") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ticket(
    email: str,
    license_key: str | None,
    *,
    subject: str = "Question about the product",
    body: str = "How do I change the logo in the header?",
    hint: str | None = None,
    vip: bool = False,
) -> TicketSubmitted:
    return TicketSubmitted(
        tid=new_tid(),
        channel="web",
        requester=Requester(email=email, name="Test"),
        license_key=license_key,
        subject=subject,
        body=body,
        product=Product(),
        severity_hint=hint,  # type: ignore[arg-type]
        vip_coupon=vip,
        submitted_at=NOW,
    )


def license_body(**fields: Any) -> dict[str, Any]:
    return {"owner": "Hopper Ltd", "purchase_date": NOW.date().isoformat(), **fields}


@dataclass
class Classifier:
    http: httpx.AsyncClient  # the app; requests carry an agent's staff key unless told
    bare: httpx.AsyncClient  # the same app, no key sent unless the request has one
    consumer: ConsumerPath
    clock: ManualClock
    pool: asyncpg.Pool
    runtime: ServiceRuntime
    agent: str  # the agent's name, as events record who acted

    async def deliver(self, *events: TicketSubmitted) -> list[Envelope]:
        """Intake's submissions, as the classifier's consumer handles them (one by one)."""
        return await self.consumer.deliver(*events)

    async def put_license(self, key: str, **fields: Any) -> httpx.Response:
        return await self.http.put(f"/v1/licenses/{key}", json=license_body(**fields))

    async def classification(self, tid: str) -> asyncpg.Record:
        row = await self.pool.fetchrow("SELECT * FROM classifications WHERE tid = $1", tid)
        assert row is not None, f"{tid} not classified"
        return row

    async def events(self, *streams: str) -> list[dict[str, Any]]:
        """The classifier's events on these streams, in order: {stream, type, **data}."""
        rows = await self.pool.fetch(
            "SELECT stream_id, event_type, data FROM events WHERE stream_id = ANY($1) "
            "ORDER BY position",
            list(streams),
        )
        return [
            {"stream": r["stream_id"], "type": r["event_type"], **json.loads(r["data"])}
            for r in rows
        ]

    async def outbox_of(self, *streams: str) -> list[tuple[str, str, str]]:
        """(topic, type, stream) of each outbox row for these streams, in order: what the
        relay would publish."""
        rows = await self.pool.fetch(
            "SELECT o.topic, e.event_type, e.stream_id FROM outbox o"
            " JOIN events e USING (event_id) WHERE e.stream_id = ANY($1) ORDER BY o.id",
            list(streams),
        )
        return [(r["topic"], r["event_type"], r["stream_id"]) for r in rows]


StartClassifier = Callable[..., Awaitable[Classifier]]


@pytest.fixture
async def start_classifier(
    classifier_db: str, keys: ApiKeys, introspection: httpx.AsyncClient
) -> AsyncIterator[StartClassifier]:
    """start(policy_file=None, database_url=None) -> a classifier app on the module's
    database (or `database_url`), its manual clock at NOW; each call is a fresh app (a
    restart: nothing kept in memory)."""
    async with AsyncExitStack() as stack:

        async def start(
            policy_file: Path | None = None, database_url: str | None = None
        ) -> Classifier:
            settings = ClassifierSettings(
                database_url=database_url or classifier_db,
                clock=f"manual:{NOW.isoformat()}",
                policy_file=policy_file,
            )
            app = create_app(settings)
            opened = await serve_in_process(
                stack, app, settings, keys, introspection, host="classifier", key=keys.agent
            )
            bare = await stack.enter_async_context(
                httpx.AsyncClient(transport=opened.transport, base_url="http://classifier")
            )
            return Classifier(
                opened.http,
                bare,
                opened.consumer,
                opened.clock,
                opened.pool,
                opened.runtime,
                "test-agent",
            )

        yield start


@pytest.fixture
async def classifier(start_classifier: StartClassifier) -> Classifier:
    return await start_classifier()


def days_before(n: int) -> str:
    return date.fromordinal(NOW.date().toordinal() - n).isoformat()
