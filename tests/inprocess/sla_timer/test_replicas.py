"""Two replicas on one database never emit the same warning or breach: each claims due
timers with FOR UPDATE SKIP LOCKED and deletes them in the transaction that emits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from . import upstream as up
from .conftest import StartTimer

M = timedelta(minutes=1)


async def test_two_replicas_on_one_database_never_emit_the_same_breach(
    start_timer: StartTimer,
) -> None:
    a = await start_timer(claim_batch=1)
    b = await start_timer(claim_batch=1, database_url=a.settings.database_url)
    by_a = by_b = 0
    # Rounds of tickets falling due on both replicas at once, until each replica has
    # claimed some (one may take a whole round before the other's first claim); in every
    # round each warning and breach is emitted exactly once.
    for n in range(5):
        t = a.now()
        tids = [up.new_tid() for _ in range(40)]
        await a.deliver(*(up.classified(tid, t) for tid in tids))
        a.clock.set(t + 60 * M)
        b.clock.set(t + 60 * M)
        fired_a, fired_b = await asyncio.gather(a.fire_due(), b.fire_due())
        assert fired_a + fired_b == 2 * len(tids), (n, fired_a, fired_b)
        rows = await a.pool.fetch(
            "SELECT stream_id, event_type, count(*) AS n FROM events"
            " WHERE stream_id = ANY($1::text[]) GROUP BY stream_id, event_type",
            tids,
        )
        per = {(r["stream_id"], r["event_type"]): r["n"] for r in rows}
        for tid in tids:
            assert per[(tid, "sla.warning")] == 1 and per[(tid, "sla.breached")] == 1, tid
        count = "SELECT count(*) FROM breaches WHERE tid = ANY($1::text[])"
        assert await a.pool.fetchval(count, tids) == len(tids)
        by_a, by_b = by_a + fired_a, by_b + fired_b
        if by_a > 0 and by_b > 0:
            break
    # Both replicas claimed from the same due timers: SKIP LOCKED kept them apart.
    assert by_a > 0 and by_b > 0, (by_a, by_b)
