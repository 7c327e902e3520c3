"""The staff check of the classifier's routes, without a database or an intake: the key is
checked before anything is loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tidemark_classifier.app import create_app
from tidemark_classifier.settings import ClassifierSettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ClassifierSettings(intake_url="http://127.0.0.1:9")  # nobody answers there
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: nothing connects
    async with httpx.AsyncClient(transport=transport, base_url="http://classifier") as c:
        yield c


async def test_staff_routes_need_a_key(client: httpx.AsyncClient) -> None:
    for path in ("/v1/licenses/LIC-1", "/v1/tickets/TID-1/classification"):
        r = await client.get(path)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem")


async def test_with_intake_away_a_key_cannot_be_checked_so_503(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/licenses/LIC-1", headers={"X-Api-Key": "tmk_anything"})
    assert r.status_code == 503 and "retry-after" in r.headers
