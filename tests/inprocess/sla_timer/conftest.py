"""SLA timer in-process over real PostgreSQL (a database per test, no Kafka, no process):
the real app and routes through httpx, staff keys checked by intake's real app, a manual
clock moved through the app's own `PUT /v1/admin/clock`, the other services' events handed
to its real consumer path (inbox, consumed_events, handler, events, outbox and timer rows
in one transaction), and due timers fired by the real scheduler's claim (`fire_due`, what
its loop runs when the clock moves). What it emitted is read from its event store, its
tables and its outbox, never from Kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.access import ApiKeys
from tests.fixtures.backends import create_fresh_database, drop_database
from tests.inprocess.service_harness import ConsumerPath, serve_in_process
from tidekit.clock import ManualClock
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.runtime import ServiceRuntime
from tidemark_sla_timer.app import create_app
from tidemark_sla_timer.scheduler import Scheduler
from tidemark_sla_timer.settings import SlaTimerSettings

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Timer:
    app: FastAPI
    http: httpx.AsyncClient  # the app; requests carry an admin's key
    consumer: ConsumerPath
    clock: ManualClock
    pool: asyncpg.Pool
    settings: SlaTimerSettings

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    @property
    def scheduler(self) -> Scheduler:
        scheduler: Scheduler = self.app.state.scheduler
        return scheduler

    def now(self) -> datetime:
        return self.clock.now()

    async def deliver(self, *events: DomainEvent) -> list[Envelope]:
        """The other services' events, as the sla-timer's consumer handles them."""
        return await self.consumer.deliver(*events)

    async def redeliver(self, *envelopes: Envelope) -> None:
        await self.consumer.redeliver(*envelopes)

    async def set_clock(self, instant: datetime) -> int:
        """Move the clock through the admin route, then claim what fell due, as the
        scheduler's loop does when the clock wakes it; how many timers fired."""
        response = await self.http.put("/v1/admin/clock", json={"now": instant.isoformat()})
        assert response.status_code == 200, response.text
        return await self.fire_due()

    async def fire_due(self) -> int:
        return await self.scheduler.fire_due(self.runtime, self.clock.now())

    async def sla(self, tid: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/tickets/{tid}/sla")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def events(self, tid: str) -> list[tuple[str, dict[str, Any]]]:
        """The sla-timer's own events for `tid`, in order."""
        rows = await self.pool.fetch(
            "SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version", tid
        )
        return [(r["event_type"], json.loads(r["data"])) for r in rows]

    async def types(self, tid: str) -> list[str]:
        return [t for t, _ in await self.events(tid)]

    async def published(self, tid: str) -> dict[str, list[str]]:
        """For each of its events for `tid` (by id), the topics of its outbox rows: one
        row for the sla topic each when every decision is published exactly once."""
        rows = await self.pool.fetch(
            "SELECT e.event_id, o.topic FROM events e LEFT JOIN outbox o USING (event_id)"
            " WHERE e.stream_id = $1",
            tid,
        )
        topics: dict[str, list[str]] = {}
        for r in rows:
            topics.setdefault(str(r["event_id"]), []).extend([r["topic"]] if r["topic"] else [])
        return topics


StartTimer = Callable[..., Awaitable[Timer]]


@pytest.fixture
async def start_timer(
    _postgres: tuple[str, object], keys: ApiKeys, introspection: httpx.AsyncClient
) -> AsyncIterator[StartTimer]:
    """start(policy_file=None, database_url=None, **settings) -> an sla-timer app on a
    fresh database (or `database_url`: another replica), its manual clock at START."""
    admin_url, _ = _postgres
    databases: list[str] = []
    async with AsyncExitStack() as stack:

        async def start(
            policy_file: Path | None = None, database_url: str | None = None, **extra: Any
        ) -> Timer:
            if database_url is None:
                database_url = create_fresh_database(admin_url, prefix="tidemark_sla_inproc")
                databases.append(database_url)
            settings = SlaTimerSettings(
                database_url=database_url,
                clock=f"manual:{START.isoformat()}",
                consumer_group=f"t{uuid.uuid4().hex[:8]}",
                policy_file=policy_file,
                **extra,
            )
            app = create_app(settings)
            opened = await serve_in_process(
                stack, app, settings, keys, introspection, host="sla-timer", key=keys.admin
            )
            return Timer(app, opened.http, opened.consumer, opened.clock, opened.pool, settings)

        yield start
    for url in databases:
        drop_database(admin_url, url)


@pytest.fixture
async def timer(start_timer: StartTimer) -> Timer:
    return await start_timer()
