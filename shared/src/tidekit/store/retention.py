"""Retention: each service prunes what it only keeps for a while.

Published outbox rows (the relay is done with them), inbox rows (the de-duplication of
redelivered records) and, in intake, Idempotency-Key claims, once older than their
setting. A row goes in batches (`batch_size` rows per DELETE, a short pause between two),
so no statement holds locks for long or writes a burst of WAL; rows another replica is
deleting at the same moment are skipped (`FOR UPDATE SKIP LOCKED`), so every replica may
run the worker and none waits for another. "Now" is the runtime clock's.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from tidekit.clock import Clock

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `table` whose `time_column` is older than `keep` may go. A NULL time (an
    outbox row not yet published) is never older than anything: such rows always stay."""

    table: str
    time_column: str
    keep: timedelta

    def __post_init__(self) -> None:
        for name in (self.table, self.time_column):
            if not _NAME.match(name):
                raise ValueError(f"bad SQL name {name!r}")

    def cutoff(self, now: datetime) -> datetime:
        return now - self.keep


@dataclass(frozen=True)
class RetentionPreview:
    """What a round would prune from one table now, and the oldest row it would keep."""

    table: str
    keep: timedelta
    cutoff: datetime
    expired: int
    oldest_kept: datetime | None
    kept: int


async def prune_batch(
    conn: asyncpg.Connection, schema: str, rule: RetentionRule, now: datetime, batch_size: int
) -> int:
    """Delete at most `batch_size` expired rows; returns how many went."""
    table = f"{schema}.{rule.table}"
    status = await conn.execute(
        f"""DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM {table} WHERE {rule.time_column} < $1
                LIMIT $2 FOR UPDATE SKIP LOCKED))""",
        rule.cutoff(now),
        batch_size,
    )
    return int(status.split()[-1])


async def prune(
    pool: asyncpg.Pool,
    schema: str,
    rules: list[RetentionRule],
    now: datetime,
    *,
    batch_size: int = 1000,
    pause: float = 0.05,
) -> dict[str, int]:
    """One round: every rule's expired rows, batch after batch. Returns rows deleted per
    table."""
    deleted: dict[str, int] = {}
    for rule in rules:
        total = 0
        while True:
            async with pool.acquire() as conn:
                gone = await prune_batch(conn, schema, rule, now, batch_size)
            total += gone
            if gone < batch_size:
                break
            await asyncio.sleep(pause)  # let writers and the WAL breathe between batches
        deleted[rule.table] = total
    return deleted


async def retention_worker(
    pool: asyncpg.Pool,
    schema: str,
    rules: list[RetentionRule],
    clock: Clock,
    *,
    interval: timedelta,
    batch_size: int = 1000,
    pause: float = 0.05,
) -> None:
    """Prune every `interval` of the runtime clock, for the life of the service."""
    wake = asyncio.Event()  # never set: the loop only follows the clock
    while True:
        now = clock.now()
        try:
            deleted = await prune(pool, schema, rules, now, batch_size=batch_size, pause=pause)
        except (OSError, asyncpg.PostgresError) as exc:  # the database is away: next round
            log.warning("retention round failed", extra={"error": repr(exc)})
        else:
            if any(deleted.values()):
                log.info("retention pruned rows", extra={"deleted": deleted})
        next_round = now + interval
        while clock.now() < next_round:
            await clock.sleep_until(next_round, wake)


async def preview(
    conn: asyncpg.Connection, schema: str, rules: list[RetentionRule], now: datetime
) -> list[RetentionPreview]:
    """Per rule: how many rows a round would prune now and the oldest one it keeps
    (deletes nothing)."""
    found = []
    for rule in rules:
        row = await conn.fetchrow(
            f"""SELECT count(*) FILTER (WHERE {rule.time_column} < $1) AS expired,
                       count(*) FILTER (WHERE {rule.time_column} IS NULL
                                        OR {rule.time_column} >= $1) AS kept,
                       min({rule.time_column}) FILTER (WHERE {rule.time_column} >= $1)
                           AS oldest_kept
                FROM {schema}.{rule.table}""",
            rule.cutoff(now),
        )
        assert row is not None
        cutoff = rule.cutoff(now)
        expired, kept, oldest = row["expired"], row["kept"], row["oldest_kept"]
        found.append(RetentionPreview(rule.table, rule.keep, cutoff, expired, oldest, kept))
    return found
