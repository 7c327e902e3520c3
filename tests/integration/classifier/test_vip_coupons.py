"""VIP coupons under concurrency: a conditional update, spent at most once, never below 0."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_classifier import coupon_store
from tidemark_classifier.domain import CouponAttempt, CouponSpent

from .conftest import aput_license, envelope, events_of, send, ticket, wait_classified

pytestmark = pytest.mark.integration


async def test_20_concurrent_vip_requests_spend_exactly_3_coupons(
    api: httpx.AsyncClient, db: asyncpg.Connection, intake_producer: AIOKafkaProducer
) -> None:
    key, email = f"LIC-{uuid.uuid4().hex[:8]}", f"vip-{uuid.uuid4().hex[:6]}@example.com"
    assert (await aput_license(api, key, edition="premium", emails=[email])).status_code == 201
    tickets = [
        ticket(email, key, body=f"Request {n}: the export is wrong", vip=True) for n in range(20)
    ]
    envelopes = [envelope(t) for t in tickets]
    tids = [t.tid for t in tickets]
    await send(intake_producer, envelopes)  # one burst over all partitions
    rows = await wait_classified(db, tids)

    async def tally() -> Counter[str]:
        return Counter(e["type"] for e in await events_of(db, tids))

    counts = await tally()
    assert counts["vip_coupon.spent"] == 3 and counts["vip_coupon.refused"] == 17
    assert Counter(r["level"] for r in rows) == {"vip_request": 3, "commercial_vip": 17}
    refused = [e for e in await events_of(db, tids) if e["type"] == "vip_coupon.refused"]
    assert {e["reason"] for e in refused} == {"used_up"}
    assert sorted(e["remaining"] for e in await events_of(db, tids) if "remaining" in e) == [
        0,
        1,
        2,
    ]
    assert await db.fetchval("SELECT remaining FROM coupon_years WHERE license_key=$1", key) == 0

    # Replay: the same records again (a redelivery), and the same tickets under new event
    # ids (a re-sent submission); then fresh sentinel tickets on every partition, which are
    # handled after the replays in each partition's order.
    again = [envelope(t) for t in tickets]
    sentinels = [ticket(email, key, body="sentinel") for _ in range(30)]
    await send(intake_producer, envelopes + again + [envelope(s) for s in sentinels])
    await wait_classified(db, [s.tid for s in sentinels])
    assert await tally() == counts
    assert await db.fetchval("SELECT count(*) FROM coupon_spends WHERE license_key=$1", key) == 3


async def test_the_conditional_update_holds_against_20_concurrent_connections(
    database_url: str,
) -> None:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    async with _conn(database_url, schema) as conn:
        await apply_migrations(
            conn, schema, [CORE_MIGRATIONS, MigrationSet("classifier", "tidemark_classifier")]
        )
    pool = await asyncpg.create_pool(
        database_url, min_size=20, max_size=20, server_settings={"search_path": schema}
    )
    attempt = CouponAttempt("LIC-C", date(2026, 3, 1), allowance=3)
    start = asyncio.Event()

    async def one(n: int) -> object:
        async with pool.acquire() as conn:
            await start.wait()
            async with conn.transaction():
                return await coupon_store.spend(conn, attempt, f"TID-{n}", datetime.now(UTC))

    try:
        tasks = [asyncio.create_task(one(n)) for n in range(20)]
        await asyncio.sleep(0.2)
        start.set()
        outcomes = await asyncio.gather(*tasks)
        assert sum(isinstance(o, CouponSpent) for o in outcomes) == 3
        assert await pool.fetchval("SELECT remaining FROM coupon_years") == 0
    finally:
        await pool.close()


class _conn:
    def __init__(self, url: str, schema: str) -> None:
        self.url, self.schema = url, schema

    async def __aenter__(self) -> asyncpg.Connection:
        self.c = await asyncpg.connect(self.url)
        return self.c

    async def __aexit__(self, *exc: object) -> None:
        await self.c.close()
