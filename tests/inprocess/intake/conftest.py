"""Intake in-process over real PostgreSQL (a database of its own, no Kafka): the real app
and routes through httpx, a manual clock the test moves, and the other services' events
handed to the real consumer handler, as the consumer would in one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import ApiKeys, make_keys
from tests.fixtures.backends import fresh_database
from tidekit.clock import ManualClock
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidemark_intake.app import create_app
from tidemark_intake.settings import IntakeSettings
from tidemark_intake.tickets.service import IntakeService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="package")
def intake_db(_postgres: tuple[str, Any]) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_intake_inproc") as url:
        yield url


@pytest.fixture(scope="package")
async def intake_keys(intake_db: str) -> ApiKeys:
    return await make_keys(intake_db)  # also applies intake's migrations


@dataclass
class Desk:
    http: httpx.AsyncClient
    service: IntakeService
    clock: ManualClock
    keys: ApiKeys

    def staff(self) -> dict[str, str]:
        return {"X-Api-Key": self.keys.agent}

    async def submit(self, at: datetime, email: str = "ada@example.com") -> str:
        self.clock.set(at)
        body = {
            "channel": "web",
            "requester": {"email": email, "name": "Ada"},
            "subject": "Export is slow",
            "body": "The CSV export is slow since the update.",
        }
        created = await self.http.post(
            "/v1/tickets", json=body, headers={"X-Api-Key": self.keys.all_channels}
        )
        assert created.status_code == 201, created.text
        return str(created.json()["tid"])

    async def deliver(self, *events: DomainEvent) -> None:
        """Other services' events, through intake's handler for them (as its consumer calls
        it: in a unit of work whose cause is the event's envelope)."""
        for event in events:
            envelope = Envelope.wrap(event, source="tidemark/test")
            await self.service.runtime.bus.handle(event, cause=envelope)

    async def ticket(self, tid: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/tickets/{tid}", headers=self.staff())
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def desk(intake_db: str, intake_keys: ApiKeys) -> AsyncIterator[Desk]:
    settings = IntakeSettings(database_url=intake_db, clock="manual:2026-01-01T00:00:00Z")
    app = create_app(settings)
    service: IntakeService = app.state.intake
    runtime = service.runtime
    runtime.pool = await asyncpg.create_pool(
        intake_db, min_size=1, max_size=4, server_settings={"search_path": "intake"}
    )
    assert isinstance(runtime.clock, ManualClock)
    transport = httpx.ASGITransport(app=app)  # no lifespan: no Kafka, no relay, no consumers
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield Desk(http, service, runtime.clock, intake_keys)
    await runtime.pool.close()
