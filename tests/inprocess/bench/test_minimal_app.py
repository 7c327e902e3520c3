"""The bench's second yardstick (tests/bench/minimal_app.py) does what the bench says it
does: one durable statement per request, writing the ticket, its event and its outbox row
under a TID from the sequence, on a real PostgreSQL. A yardstick that answered 201 without
writing would make intake look slow beside it."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.bench import minimal_app
from tests.bench.load import TICKET
from tests.fixtures.backends import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
def minimal_db(_postgres: tuple[str, object], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_bench_minimal") as url:
        monkeypatch.setenv(minimal_app.DATABASE_URL, url)
        yield url


async def test_each_request_writes_its_ticket_event_and_outbox_row(minimal_db: str) -> None:
    app = minimal_app.create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            answers = [await client.post("/v1/tickets", json=TICKET) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    tids = [a.json()["tid"] for a in answers]
    assert len(set(tids)) == 3 and all(tid.startswith("TID-") for tid in tids)
    conn = await asyncpg.connect(minimal_db)
    try:
        for table in ("tickets", "events", "outbox"):
            rows = await conn.fetch(f"SELECT * FROM bench_minimal.{table}")
            assert len(rows) == 3, table
        stored = await conn.fetch(
            "SELECT tid, body ->> 'subject' AS subject FROM bench_minimal.tickets"
        )
        assert sorted(r["tid"] for r in stored) == sorted(tids)
        assert {r["subject"] for r in stored} == {TICKET["subject"]}
        joined = await conn.fetchval(
            """SELECT count(*) FROM bench_minimal.events e
               JOIN bench_minimal.outbox o USING (event_id)
               JOIN bench_minimal.tickets t ON t.tid = e.tid"""
        )
        assert joined == 3
    finally:
        await conn.close()
