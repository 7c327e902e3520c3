"""The reports' table: written by the consumer's handler in its transaction, read by the
report routes."""

from __future__ import annotations

from dataclasses import astuple, fields
from datetime import datetime

import asyncpg

from tidekit.events.base import DomainEvent

from .domain.obligations import REPORTED_EVENTS, ObligationRecord, evolve

COLUMNS = [f.name for f in fields(ObligationRecord)]
# One row whatever exists: the obligation's columns (NULL when it is new) and the queue.
_SELECT_WITH_QUEUE = f"""SELECT (SELECT queue FROM queue_entries WHERE tid = $2) AS ticket_queue,
    {", ".join(f"o.{c}" for c in COLUMNS)}
    FROM (SELECT 1) AS one LEFT JOIN report_obligations o ON o.obligation_id = $1"""
_UPSERT = f"""INSERT INTO report_obligations ({", ".join(COLUMNS)})
    VALUES ({", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))})
    ON CONFLICT (obligation_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])}"""


def _record(row: asyncpg.Record) -> ObligationRecord:
    return ObligationRecord(**{c: row[c] for c in COLUMNS})


async def record_obligation(event: DomainEvent, conn: asyncpg.Connection) -> None:
    """Fold an sla.* event into its obligation's row (other events are ignored). Call it in
    the consumer's transaction, holding the ticket's lock (service.lock_ticket: the one
    writer of its rows, so they are read without a row lock), before escalation acts on
    the event: the queue read here is the one the ticket was in when the event happened.
    The obligation's row and the queue come in one statement."""
    if not isinstance(event, REPORTED_EVENTS):
        return
    row = await conn.fetchrow(_SELECT_WITH_QUEUE, event.obligation_id, event.tid)
    current = None if row["obligation_id"] is None else _record(row)
    updated = evolve(current, event, row["ticket_queue"])
    if updated is not None and updated != current:
        await conn.execute(_UPSERT, *astuple(updated))


async def obligations_due(
    pool: asyncpg.Pool, start: datetime, end: datetime
) -> list[ObligationRecord]:
    """Every obligation whose deadline falls in [start, end). One still undecided and never
    seen in a queue takes the ticket's queue now (it is the one that will answer for it)."""
    rows = await pool.fetch(
        f"""SELECT {", ".join(f"o.{c}" for c in COLUMNS if c != "queue")},
                   COALESCE(o.queue, CASE WHEN o.met_at IS NULL AND o.breached_at IS NULL
                                          THEN q.queue END) AS queue
            FROM report_obligations o LEFT JOIN queue_entries q ON q.tid = o.tid
            WHERE o.deadline >= $1 AND o.deadline < $2""",
        start,
        end,
    )
    return [_record(r) for r in rows]
