"""/readyz decides on every check by default; `?require=` narrows the deciding checks, so
intake's readiness probe can follow its database alone (it accepts writes while Kafka is
down, SPEC 4: its outbox keeps them). In process: a stub runtime, no servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from fastapi import FastAPI

from tidekit.runtime import ServiceRuntime
from tidekit.web.ops import ops_router


@dataclass
class _Settings:
    service_name: str = "intake"
    retry_after_seconds: int = 7


@dataclass
class _StubRuntime:
    checks: dict[str, bool]
    settings: _Settings = field(default_factory=_Settings)

    async def readiness(self) -> dict[str, bool]:
        return dict(self.checks)


async def _get(checks: dict[str, bool], path: str) -> httpx.Response:
    app = FastAPI()
    app.include_router(ops_router(cast(ServiceRuntime, _StubRuntime(checks))))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.get(path)


async def test_by_default_kafka_down_means_unavailable() -> None:
    r = await _get({"database": True, "kafka": False}, "/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "7"


async def test_requiring_the_database_alone_ignores_kafka_but_still_reports_it() -> None:
    r = await _get({"database": True, "kafka": False}, "/readyz?require=database")
    body: dict[str, Any] = r.json()
    assert r.status_code == 200, body
    assert body == {"status": "ready", "checks": {"database": True, "kafka": False}}


async def test_requiring_the_database_fails_when_it_is_down() -> None:
    r = await _get({"database": False, "kafka": True}, "/readyz?require=database")
    assert r.status_code == 503


async def test_an_unknown_check_is_refused() -> None:
    r = await _get({"database": True, "kafka": True}, "/readyz?require=redis")
    assert r.status_code == 422
