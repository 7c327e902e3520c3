"""What every in-process service test shares: intake's database holding the staff keys the
service asks about, the keys, and intake's real introspection app over it (one per package
run: keys are read-only to these tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fixtures.access import ApiKeys, make_keys
from tests.fixtures.backends import fresh_database

from .service_harness import intake_introspection


@pytest.fixture(scope="package")
def keys_db(_postgres: tuple[str, object]) -> Iterator[str]:
    """Intake's database, where the staff keys the services ask about live."""
    with fresh_database(_postgres, "tidemark_inproc_keys") as url:
        yield url


@pytest.fixture(scope="package")
async def keys(keys_db: str) -> ApiKeys:
    return await make_keys(keys_db)


@pytest.fixture(scope="package")
async def introspection(keys_db: str, keys: ApiKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with intake_introspection(keys_db) as client:
        yield client
