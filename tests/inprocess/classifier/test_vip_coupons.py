"""VIP coupons under concurrency: a conditional update, spent at most once, never below 0."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import asyncpg

from tidekit.events.envelope import Envelope
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_classifier import coupon_store
from tidemark_classifier.domain import CouponAttempt, CouponSpent

from .conftest import Classifier, new_key, ticket

SPENT_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_20_concurrent_vip_requests_spend_exactly_3_coupons(classifier: Classifier) -> None:
    key, email = new_key(), f"vip-{new_key()}@example.com"
    assert (await classifier.put_license(key, edition="premium", emails=[email])).status_code == 201
    tickets = [
        ticket(email, key, body=f"Request {n}: the export is wrong", vip=True) for n in range(20)
    ]
    envelopes = [Envelope.wrap(t, source="tidemark/intake") for t in tickets]
    tids = [t.tid for t in tickets]

    async def burst(batch: list[Envelope]) -> None:
        """Every record handled at once, each in a transaction of its own (as records of
        different partitions are), as many at a time as the service's pool allows."""
        await asyncio.gather(*(classifier.consumer.redeliver(e) for e in batch))

    await burst(envelopes)
    rows = [await classifier.classification(tid) for tid in tids]

    async def tally() -> Counter[str]:
        return Counter(e["type"] for e in await classifier.events(*tids))

    counts = await tally()
    assert counts["vip_coupon.spent"] == 3 and counts["vip_coupon.refused"] == 17
    assert Counter(r["level"] for r in rows) == {"vip_request": 3, "commercial_vip": 17}
    stored = await classifier.events(*tids)
    refused = [e for e in stored if e["type"] == "vip_coupon.refused"]
    assert {e["reason"] for e in refused} == {"used_up"}
    assert sorted(e["remaining"] for e in stored if "remaining" in e) == [0, 1, 2]
    remaining = "SELECT remaining FROM coupon_years WHERE license_key = $1"
    assert await classifier.pool.fetchval(remaining, key) == 0

    # Replay: the same records again (a redelivery), and the same tickets under new event
    # ids (a re-sent submission): nothing is decided or spent twice.
    again = [Envelope.wrap(t, source="tidemark/intake") for t in tickets]
    await burst(envelopes + again)
    assert await tally() == counts
    spends = "SELECT count(*) FROM coupon_spends WHERE license_key = $1"
    assert await classifier.pool.fetchval(spends, key) == 3


async def test_the_conditional_update_holds_against_20_concurrent_connections(
    classifier_db: str,
) -> None:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(classifier_db)
    try:
        await apply_migrations(
            conn, schema, [CORE_MIGRATIONS, MigrationSet("classifier", "tidemark_classifier")]
        )
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        classifier_db, min_size=20, max_size=20, server_settings={"search_path": schema}
    )
    attempt = CouponAttempt("LIC-C", date(2026, 3, 1), allowance=3)
    start, holding = asyncio.Event(), asyncio.Semaphore(0)

    async def one(n: int) -> object:
        async with pool.acquire() as conn:
            holding.release()  # this one has its connection
            await start.wait()
            async with conn.transaction():
                return await coupon_store.spend(conn, attempt, f"TID-{n}", SPENT_AT)

    try:
        tasks = [asyncio.create_task(one(n)) for n in range(20)]
        for _ in tasks:  # every one holds its connection: then they all start at once
            await asyncio.wait_for(holding.acquire(), 10)
        start.set()
        outcomes = await asyncio.gather(*tasks)
        assert sum(isinstance(o, CouponSpent) for o in outcomes) == 3
        assert await pool.fetchval("SELECT remaining FROM coupon_years") == 0
    finally:
        await pool.close()
