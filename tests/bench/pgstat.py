"""The database's side of a run: pg_stat_statements' top statements by total time.

The bench's PostgreSQL preloads the extension (`PRELOAD`); `reset` before the measured part,
`top` after it. Calls and milliseconds are divided by the run's tickets, so they read as
"per ticket" next to the CPU table (tests.bench.cpu).
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

PRELOAD = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"


async def reset(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def top(database_url: str, items: int, limit: int = 15) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """SELECT query, calls, total_exec_time, rows FROM pg_stat_statements
               WHERE query NOT ILIKE '%pg_stat_statements%'
               ORDER BY total_exec_time DESC LIMIT $1""",
            limit,
        )
        total = await conn.fetchval(
            "SELECT sum(total_exec_time) FROM pg_stat_statements"
            " WHERE query NOT ILIKE '%pg_stat_statements%'"
        )
    finally:
        await conn.close()
    per = max(items, 1)
    found = [
        {
            "query": re.sub(r"\s+", " ", row["query"]).strip()[:110],
            "calls_per_item": round(row["calls"] / per, 2),
            "ms_per_item": round(row["total_exec_time"] / per, 3),
            "share": round(row["total_exec_time"] / total, 3) if total else 0.0,
        }
        for row in rows
    ]
    return found


async def statements_per_item(database_url: str, items: int) -> float:
    """Every statement PostgreSQL ran since `reset` (BEGIN and COMMIT too), per item: the
    round trips the services spent on each ticket."""
    conn = await asyncpg.connect(database_url)
    try:
        calls = await conn.fetchval(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
            " WHERE query NOT ILIKE '%pg_stat_statements%'"
        )
    finally:
        await conn.close()
    return round(int(calls) / max(items, 1), 1)


def describe(statements: list[dict[str, Any]]) -> str:
    lines = ["  ms/ticket  calls/ticket  share  statement"]
    lines += [
        f"  {s['ms_per_item']:9.3f}  {s['calls_per_item']:12.2f}  {s['share']:5.1%}  {s['query']}"
        for s in statements
    ]
    return "\n".join(lines)
