"""Escalation in-process over real PostgreSQL (a database per test, no Kafka): the real app
and routes through httpx, staff keys checked by intake's real app, a manual clock the test
moves, and the other services' events handed to escalation's real consumer path (inbox,
consumed_events, handler, events and outbox rows in one transaction). What escalation
published is read from its event store and outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from tests.fixtures.access import ApiKeys
from tests.fixtures.backends import create_fresh_database, drop_database
from tests.inprocess.service_harness import (
    ConsumerPath,
    outbox,
    serve_in_process,
)
from tidekit.clock import ManualClock
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidemark_escalation.app import create_app
from tidemark_escalation.settings import EscalationSettings


def new_tid() -> str:
    return f"TID-{uuid.uuid4().int % 10**11 + 10**9}"


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


@dataclass
class Escalation:
    app: Any
    http: httpx.AsyncClient  # the app; requests carry an admin's key unless told otherwise
    consumer: ConsumerPath
    clock: ManualClock
    pool: asyncpg.Pool
    settings: EscalationSettings

    async def deliver(self, *events: DomainEvent) -> list[Envelope]:
        """The other services' events, as escalation's consumer handles them."""
        return await self.consumer.deliver(*events)

    async def redeliver(self, *envelopes: Envelope) -> None:
        await self.consumer.redeliver(*envelopes)

    async def stream(self, tid: str) -> list[dict[str, Any]]:
        """Escalation's own events for `tid`, in order: {id, type, **data}."""
        rows = await self.pool.fetch(
            "SELECT event_id, event_type, data FROM events WHERE stream_id = $1 ORDER BY version",
            tid,
        )
        return [
            {"id": str(r["event_id"]), "type": r["event_type"], **json.loads(r["data"])}
            for r in rows
        ]

    async def published(self, tid: str) -> dict[str, int]:
        """How many outbox rows (records for the escalation topic) each of its events for
        `tid` has: 1 each when every decision is published exactly once."""
        topic = self.consumer.runtime.topic
        rows = await self.pool.fetch("SELECT event_id, topic FROM outbox")
        assert {r["topic"] for r in rows} <= {topic}
        ours = {e["id"] for e in await self.stream(tid)}
        in_outbox = [e.id for e in await outbox(self.pool, tid)]
        return {i: in_outbox.count(i) for i in ours}

    async def queue(self, name: str) -> list[dict[str, Any]]:
        """Every ticket of the queue, following the cursors (small pages on purpose)."""
        tickets: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 3}
        while True:
            r = await self.http.get(f"/v1/queues/{name}", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            tickets += page["tickets"]
            if page["next_cursor"] is None:
                return tickets
            params["cursor"] = page["next_cursor"]

    def duplicates(self) -> float:
        """Redelivered records the consumer has seen and ignored (its metric)."""
        name = self.consumer.consumer.name
        value = REGISTRY.get_sample_value("tidemark_consumer_duplicates_total", {"consumer": name})
        return value or 0.0


StartEscalation = Callable[..., Awaitable[Escalation]]


@pytest.fixture
async def start_escalation(
    _postgres: tuple[str, object], keys: ApiKeys, introspection: httpx.AsyncClient
) -> AsyncIterator[StartEscalation]:
    """start(now) -> escalation on a fresh database, its manual clock reading `now`;
    start(now, database_url=d, group=g) -> another instance on d (a restart: nothing kept
    in memory, the same consumer group and database)."""
    admin_url, _ = _postgres
    databases: list[str] = []
    async with AsyncExitStack() as stack:

        async def start(
            now: datetime, database_url: str | None = None, group: str | None = None
        ) -> Escalation:
            if database_url is None:
                database_url = create_fresh_database(admin_url, prefix="tidemark_esc_inproc")
                databases.append(database_url)
            settings = EscalationSettings(
                database_url=database_url,
                clock=f"manual:{iso(now)}",
                consumer_group_suffix=group or f"t{uuid.uuid4().hex[:12]}",
            )
            app = create_app(settings)
            opened = await serve_in_process(
                stack, app, settings, keys, introspection, host="escalation", key=keys.admin
            )
            return Escalation(
                app, opened.http, opened.consumer, opened.clock, opened.pool, settings
            )

        yield start
    for url in databases:
        drop_database(admin_url, url)
