"""What the board's pages show, read from escalation's tables (the queue rows, the board's
clock and subject per ticket, the first replies) in serving order, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from tidekit.events.vocabulary import QUEUES

from ..ordering import ServingKey, encode_cursor
from .clock_state import BoardClock, countdown_state
from .forecast import DEFAULT_WINDOW, AtRisk, Waiting, at_risk, serving_rate

AT_RISK_SCAN = 5000  # the forecast looks this far down each queue's serving order


@dataclass(frozen=True)
class Row:
    tid: str
    subject: str | None
    level: str
    severity: str | None
    urgent: bool
    deadline: datetime | None
    warning_at: datetime | None
    paused: bool
    warned: bool
    breached: bool
    state: str


@dataclass(frozen=True)
class QueueView:
    name: str
    waiting: int
    rows: list[Row]
    next_cursor: str | None


_ROWS = """
SELECT q.tid, q.urgent, q.level, q.severity, q.serve_rank, q.submitted_at, q.tid_key,
       b.subject, coalesce(b.deadline, q.deadline) AS deadline, b.warning_at,
       coalesce(b.paused, false) AS paused, coalesce(b.warned, false) AS warned,
       coalesce(b.breached, false) AS breached
FROM queue_entries q LEFT JOIN board_tickets b ON b.tid = q.tid
WHERE q.queue = $1 AND q.waiting
  AND ($2::smallint IS NULL OR (q.serve_rank, q.submitted_at, q.tid_key) > ($2, $3, $4))
ORDER BY q.serve_rank, q.submitted_at, q.tid_key
LIMIT $5"""


def _row(r: Any, now: datetime) -> Row:
    clock = BoardClock("", None, r["deadline"], r["warning_at"], r["paused"], r["warned"],
                       r["breached"])  # fmt: skip
    return Row(
        r["tid"], r["subject"], r["level"], r["severity"], r["urgent"],
        None if r["paused"] else r["deadline"], r["warning_at"], r["paused"], r["warned"],
        r["breached"], countdown_state(clock, now),
    )  # fmt: skip


async def waiting_counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT queue, count(*) AS n FROM queue_entries WHERE waiting GROUP BY queue"
    )
    return {q: 0 for q in QUEUES} | {r["queue"]: r["n"] for r in rows}


async def queue_page(
    pool: asyncpg.Pool, name: str, after: ServingKey | None, limit: int, now: datetime,
    waiting: int,
) -> QueueView:  # fmt: skip
    rank, at, tkey = after if after else (None, None, None)
    found = await pool.fetch(_ROWS, name, rank, at, tkey, limit + 1)
    page = found[:limit]
    cursor = None
    if len(found) > limit:
        last = page[-1]
        cursor = encode_cursor((last["serve_rank"], last["submitted_at"], last["tid_key"]))
    return QueueView(name, waiting, [_row(r, now) for r in page], cursor)


@dataclass(frozen=True)
class QueueRisk:
    name: str
    per_hour: float
    flagged: list[AtRisk]
    rows: dict[str, Row]


async def queue_risk(
    pool: asyncpg.Pool, name: str, now: datetime, window: timedelta = DEFAULT_WINDOW
) -> QueueRisk:
    replies = await pool.fetch(
        """SELECT replied_at FROM board_first_replies
           WHERE queue = $1 AND replied_at > $2 AND replied_at <= $3""",
        name,
        now - window,
        now,
    )
    rate = serving_rate((r["replied_at"] for r in replies), now, window)
    found = await pool.fetch(_ROWS, name, None, None, None, AT_RISK_SCAN)
    rows = [_row(r, now) for r in found]
    flagged = at_risk([Waiting(r.tid, r.deadline) for r in rows], rate, now, window)
    by_tid = {r.tid: r for r in rows}
    return QueueRisk(name, rate * 3600, flagged, {f.tid: by_tid[f.tid] for f in flagged})
