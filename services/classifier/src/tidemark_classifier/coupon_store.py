"""Spending a VIP coupon: one conditional UPDATE, so the allowance never goes below zero.

Concurrent spenders of the same license year queue on the row lock; each re-checks
`remaining > 0` against the committed value, so a coupon is spent at most once.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from .domain import CouponAttempt, CouponOutcome, CouponSpent, used_up


async def spend(
    conn: asyncpg.Connection, attempt: CouponAttempt, tid: str, now: datetime
) -> CouponOutcome:
    await conn.execute(
        """INSERT INTO coupon_years (license_key, year_start, allowance, remaining)
           VALUES ($1, $2, $3, $3) ON CONFLICT (license_key, year_start) DO NOTHING""",
        attempt.license_key,
        attempt.year_start,
        attempt.allowance,
    )
    row = await conn.fetchrow(
        """UPDATE coupon_years SET remaining = remaining - 1
           WHERE license_key = $1 AND year_start = $2 AND remaining > 0
           RETURNING remaining, allowance""",
        attempt.license_key,
        attempt.year_start,
    )
    if row is None:
        return used_up(attempt)
    await conn.execute(
        """INSERT INTO coupon_spends (tid, license_key, year_start, spent_at)
           VALUES ($1, $2, $3, $4)""",
        tid,
        attempt.license_key,
        attempt.year_start,
        now,
    )
    return CouponSpent(attempt.license_key, attempt.year_start, row["allowance"], row["remaining"])
