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


def _app(intake_url: str, service_key: str | None, cache_seconds: float = 0.0) -> FastAPI:
    app = FastAPI()
    app.state.staff_keys = StaffKeys(intake_url, service_key, cache_seconds, retry_after=7)
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
    app = _app(system.urls["intake"], system.keys.service)

    async def run() -> list[tuple[int, str]]:
        answers = [
            await _get(app, "/who", None),
            await _get(app, "/who", system.keys.web),  # a frontend key is not staff: 403
            await _get(app, "/who", "tmk_nonsense"),
            await _get(app, "/who", system.keys.agent),
            await _get(app, "/supervisors", system.keys.agent),
            await _get(app, "/supervisors", system.keys.supervisor),
        ]
        return [(r.status_code, r.text) for r in answers]

    codes = [code for code, _ in asyncio.run(run())]
    assert codes == [401, 403, 401, 200, 403, 200]


def test_revocation_reaches_other_services_after_the_cache(system: System) -> None:
    with system.client("intake", system.keys.admin) as admin:
        made = admin.post("/v1/admin/keys", json={"name": "temp-agent", "role": "agent"}).json()
    intake, service_key = system.urls["intake"], system.keys.service
    cached, uncached = _app(intake, service_key, 5.0), _app(intake, service_key, 0.0)

    async def run() -> tuple[int, int, int]:
        assert (await _get(cached, "/who", made["key"])).status_code == 200
        with system.client("intake", system.keys.admin) as admin:
            assert admin.delete(f"/v1/admin/keys/{made['key_id']}").status_code == 204
        return (
            (await _get(cached, "/who", made["key"])).status_code,  # remembered answer
            (await _get(uncached, "/who", made["key"])).status_code,
            (await _get(_app("http://127.0.0.1:9", service_key), "/who", made["key"])).status_code,
        )

    assert asyncio.run(run()) == (200, 401, 503)


def test_intake_unreachable_is_503_with_retry_after() -> None:
    response = asyncio.run(_get(_app("http://127.0.0.1:9", "tmk_x"), "/who", "tmk_x"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"


def test_no_cache_outlives_the_revocation_bound() -> None:
    """However it is configured, an answer is reused at most 5 s (SPEC 3.4 revocation)."""
    assert StaffKeys("http://127.0.0.1:9", None, cache_seconds=600).cache_seconds == 5.0


def test_a_service_without_its_own_key_or_with_a_refused_one_answers_503(system: System) -> None:
    async def run() -> tuple[httpx.Response, httpx.Response]:
        keyless = _app(system.urls["intake"], None)
        refused = _app(system.urls["intake"], system.keys.agent)  # staff key, not a service's
        return (
            await _get(keyless, "/who", system.keys.agent),
            await _get(refused, "/who", system.keys.agent),
        )

    keyless, refused = asyncio.run(run())
    assert keyless.status_code == 503 and "SERVICE_KEY" in keyless.json()["detail"]
    assert refused.status_code == 503 and "refused" in refused.json()["detail"]


def test_introspection_answers_service_keys_only_and_is_rate_limited(system: System) -> None:
    introspect = f"{system.urls['intake']}/v1/introspect"
    body = {"key": system.keys.agent}

    def ask(key: str | None) -> httpx.Response:
        return httpx.post(introspect, json=body, headers={"X-Api-Key": key} if key else {})

    assert ask(None).status_code == 401  # never answers an anonymous caller
    assert ask("tmk_nonsense").status_code == 401
    for not_a_service in (system.keys.web, system.keys.agent, system.keys.admin):
        assert ask(not_a_service).status_code == 403
    answer = ask(system.keys.service)
    assert answer.status_code == 200 and answer.json()["role"] == "agent"

    # A service key of its own, so the session's services are not slowed down by this.
    with system.client("intake", system.keys.admin) as admin:
        made = admin.post("/v1/admin/keys", json={"name": "greedy", "service": True})
    assert made.status_code == 201, made.text
    greedy = made.json()["key"]
    answers: list[httpx.Response] = []
    with httpx.Client(headers={"X-Api-Key": greedy}) as client:
        # Burst 200, then 50/s: a client faster than 50/s meets a 429 after 200 and some.
        while len(answers) < 5000 and (not answers or answers[-1].status_code == 200):
            answers.append(client.post(introspect, json=body))
    assert answers[-1].status_code == 429, answers[-1].text
    assert len(answers) > 200  # the whole burst was served first
    assert int(answers[-1].headers["Retry-After"]) >= 1
