"""The staff check of the classifier's routes, without a database: the key is checked
before anything is loaded (with a valid key and no database the answer is a 503)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from tidemark_classifier.app import create_app
from tidemark_classifier.settings import ClassifierSettings

KEY = "s3cret-staff-key"


def client_for(settings: ClassifierSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: nothing connects
    return httpx.AsyncClient(transport=transport, base_url="http://classifier")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    async with client_for(ClassifierSettings(staff_keys={"agent-7": digest})) as c:
        yield c


async def test_no_key_or_a_wrong_key_is_401_and_a_right_key_gets_through(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"X-Api-Key": "nope"}, {"Authorization": f"Bearer {KEY}"}):
        r = await client.get("/v1/licenses/LIC-1", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem")
    r = await client.get("/v1/licenses/LIC-1", headers={"X-Api-Key": KEY})
    assert r.status_code == 503 and "retry-after" in r.headers


async def test_no_configured_keys_means_no_staff_access() -> None:
    async with client_for(ClassifierSettings()) as client:
        r = await client.get("/v1/licenses/LIC-1", headers={"X-Api-Key": "anything"})
        assert r.status_code == 401


def test_keys_must_be_configured_as_sha256_digests() -> None:
    with pytest.raises(ValidationError, match="SHA-256"):
        ClassifierSettings(staff_keys={"agent-7": KEY})
