"""Fixtures shared by the integration tests of the outbox, the relay and the consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.outbox_bench import Bench, open_bench


@pytest.fixture
async def bench(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url, kafka_bootstrap) as b:
        yield b
