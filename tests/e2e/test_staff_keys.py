"""tidekit.web.staff: other services check staff keys by asking the real intake."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from tidekit.web.problems import install_problem_handlers
from tidekit.web.staff import (
    Staff,
    StaffKeys,
    StaffMember,
    staff_dependency,
    staff_keys_of,
)

from .conftest import System

pytestmark = pytest.mark.e2e
SupervisorOnly = Annotated[StaffMember, Depends(staff_dependency(staff_keys_of, "supervisor"))]


def _app(intake_url: str, cache_seconds: float = 0.0) -> FastAPI:
    app = FastAPI()
    app.state.staff_keys = StaffKeys(intake_url, cache_seconds, retry_after=7)
    install_problem_handlers(app, 7)

    @app.get("/who")
    async def who(member: Staff) -> dict[str, str]:
        return {"name": member.name, "role": member.role}

    @app.get("/supervisors")
    async def supervisors(member: SupervisorOnly) -> dict[str, str]:
        return {"name": member.name}

    return app


async def _get(app: FastAPI, path: str, key: str | None) -> httpx.Response:
    headers = {"X-Api-Key": key} if key else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.get(path, headers=headers)


def test_roles_come_from_intake(system: System) -> None:
    app = _app(system.urls["intake"])

    async def run() -> list[tuple[int, str]]:
        answers = [
            await _get(app, "/who", None),
            await _get(app, "/who", system.keys.web),  # a frontend key is not staff
            await _get(app, "/who", "tmk_nonsense"),
            await _get(app, "/who", system.keys.agent),
            await _get(app, "/supervisors", system.keys.agent),
            await _get(app, "/supervisors", system.keys.supervisor),
        ]
        return [(r.status_code, r.text) for r in answers]

    codes = [code for code, _ in asyncio.run(run())]
    assert codes == [401, 401, 401, 200, 403, 200]


def test_revocation_reaches_other_services_after_the_cache(system: System) -> None:
    with system.client("intake", system.keys.admin) as admin:
        made = admin.post("/v1/admin/keys", json={"name": "temp-agent", "role": "agent"}).json()
    cached, uncached = _app(system.urls["intake"], 600.0), _app(system.urls["intake"], 0.0)

    async def run() -> tuple[int, int, int]:
        assert (await _get(cached, "/who", made["key"])).status_code == 200
        with system.client("intake", system.keys.admin) as admin:
            assert admin.delete(f"/v1/admin/keys/{made['key_id']}").status_code == 204
        return (
            (await _get(cached, "/who", made["key"])).status_code,  # remembered answer
            (await _get(uncached, "/who", made["key"])).status_code,
            (await _get(_app("http://127.0.0.1:9"), "/who", made["key"])).status_code,
        )

    assert asyncio.run(run()) == (200, 401, 503)


def test_intake_unreachable_is_503_with_retry_after() -> None:
    response = asyncio.run(_get(_app("http://127.0.0.1:9"), "/who", "tmk_x"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
