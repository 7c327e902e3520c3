"""SQL of the sla-timer's own tables (all in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from tidekit.store.table_writes import TableWrite

from .domain import ClockInput, EmitKey, TicketFacts, TimerRow

TIMER_COLUMNS = (
    "obligation_id, kind, due_at, tid, ob_kind, level, severity, deadline, warning_at,"
    " policy_version"
)


async def lock_ticket(conn: asyncpg.Connection, tid: str) -> TicketFacts | None:
    """Take the ticket's row lock (serialises its handlers across replicas), making the row
    if it is new; its facts. One statement: the upsert locks the row either way."""
    return (await lock_tickets(conn, [tid]))[tid]


async def lock_tickets(
    conn: asyncpg.Connection, tids: Sequence[str]
) -> dict[str, TicketFacts | None]:
    """`lock_ticket` for several tickets in one statement, in TID order (two batches never
    wait for each other's rows in opposite orders)."""
    rows = await conn.fetch(
        """INSERT INTO sla_tickets (tid) SELECT t FROM unnest($1::text[]) AS t ORDER BY t
           ON CONFLICT (tid) DO UPDATE SET tid = EXCLUDED.tid
           RETURNING tid, level, severity, entitlement, submitted_at""",
        sorted(set(tids)),
    )
    return {r["tid"]: _facts(r) for r in rows}


def _facts(row: asyncpg.Record) -> TicketFacts | None:
    if row["level"] is None:
        return None
    return TicketFacts(row["level"], row["severity"], row["entitlement"], row["submitted_at"])


def facts_saved(tid: str, facts: TicketFacts, classified_at: datetime) -> TableWrite:
    """The ticket's classified facts, written with the unit of work's flush."""
    return TableWrite(
        """UPDATE sla_tickets SET level = $2, severity = $3, entitlement = $4,
               submitted_at = $5, classified_at = $6 WHERE tid = $1""",
        (tid, facts.level, facts.severity, facts.entitlement, facts.submitted_at, classified_at),
    )


async def inputs(conn: asyncpg.Connection, tid: str) -> list[ClockInput]:
    rows = await conn.fetch(
        "SELECT seq, at, kind, status, level, severity FROM clock_inputs WHERE tid = $1"
        " ORDER BY at, seq",
        tid,
    )
    return [ClockInput(**dict(r)) for r in rows]


async def inputs_adding(
    conn: asyncpg.Connection, tid: str, item: ClockInput
) -> tuple[list[ClockInput], int]:
    """The ticket's inputs so far (as `inputs`) and the new one's seq: it is inserted by the
    same statement, whose read does not see it."""
    rows = await conn.fetch(
        """WITH added AS (
               INSERT INTO clock_inputs (tid, at, kind, status, level, severity)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq)
           SELECT added.seq AS added, i.seq, i.at, i.kind, i.status, i.level, i.severity
           FROM added LEFT JOIN LATERAL (SELECT * FROM clock_inputs WHERE tid = $1) i ON true
           ORDER BY i.at, i.seq""",
        tid,
        item.at,
        item.kind,
        item.status,
        item.level,
        item.severity,
    )
    columns = ("seq", "at", "kind", "status", "level", "severity")
    before = [ClockInput(**{c: r[c] for c in columns}) for r in rows if r["seq"] is not None]
    added: int = rows[0]["added"]
    return before, added


async def drop_timers(conn: asyncpg.Connection, tid: str) -> None:
    """Remove the ticket's timers, to be written anew with the handler's decision. Its row
    locks wait for a scheduler claim in flight on them, so the next statement (`emitted`)
    sees what that claim emitted."""
    await conn.execute("DELETE FROM timers WHERE tid = $1", tid)


async def emitted(conn: asyncpg.Connection, tid: str) -> set[EmitKey]:
    rows = await conn.fetch("SELECT obligation_id, kind, seq FROM sla_emitted WHERE tid = $1", tid)
    return {(r["obligation_id"], r["kind"], r["seq"]) for r in rows}


async def mark_emitted(
    conn: asyncpg.Connection, tid: str, keys: Sequence[EmitKey], at: datetime
) -> set[EmitKey]:
    """Insert the keys; the ones that were not there yet (to emit now)."""
    if not keys:
        return set()
    rows = await conn.fetch(
        """INSERT INTO sla_emitted (obligation_id, kind, seq, tid, emitted_at)
           SELECT o, k, s, $4, $5 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(o, k, s)
           ON CONFLICT DO NOTHING RETURNING obligation_id, kind, seq""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        tid,
        at,
    )
    return {(r["obligation_id"], r["kind"], r["seq"]) for r in rows}


def timer_values(t: TimerRow) -> tuple[object, ...]:
    return (
        t.obligation_id,
        t.kind,
        t.due_at,
        t.tid,
        t.ob_kind,
        t.level,
        t.severity,
        t.deadline,
        t.warning_at,
        t.policy_version,
    )


def timers_written(timers: Sequence[TimerRow]) -> TableWrite:
    """The ticket's timers (after `drop_timers`), written with the unit of work's flush."""
    columns = list(zip(*(timer_values(t) for t in timers), strict=True))
    return TableWrite(
        f"""INSERT INTO timers ({TIMER_COLUMNS})
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::text[], $6::text[], $7::text[], $8::timestamptz[],
                                 $9::timestamptz[], $10::text[])""",
        tuple(list(c) for c in columns),
    )


CLAIM = f"""
WITH claimed AS (
    DELETE FROM timers t USING (
        SELECT obligation_id, kind FROM timers WHERE due_at <= $1
        ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
    ) due
    WHERE t.obligation_id = due.obligation_id AND t.kind = due.kind
    RETURNING {", ".join("t." + c.strip() for c in TIMER_COLUMNS.split(","))}
), fresh AS (
    INSERT INTO sla_emitted (obligation_id, kind, seq, tid, emitted_at)
    SELECT obligation_id, kind, 0, tid, $3 FROM claimed
    ON CONFLICT DO NOTHING RETURNING obligation_id, kind
), breached AS (
    INSERT INTO breaches (obligation_id, tid, deadline, emitted_at, kind, level, severity,
                          policy_version, lateness_seconds)
    SELECT c.obligation_id, c.tid, c.deadline, $3, c.ob_kind, c.level, c.severity,
           c.policy_version, greatest(extract(epoch FROM $3 - c.deadline)::float8, 0)
    FROM claimed c JOIN fresh f USING (obligation_id, kind)
    WHERE c.kind = 'breach' ORDER BY c.due_at
    ON CONFLICT (obligation_id) DO NOTHING
)
SELECT c.* FROM claimed c JOIN fresh f USING (obligation_id, kind)
"""


async def claim_due(
    conn: asyncpg.Connection, now: datetime, limit: int, emit_at: datetime
) -> list[TimerRow]:
    """In one statement: take due timers no other replica holds (removed in this
    transaction), insert their emitted-once keys and their breaches rows. Returns the
    timers not emitted before, in due order."""
    rows = await conn.fetch(CLAIM, now, limit, emit_at)
    # by position: CLAIM returns TIMER_COLUMNS, which are TimerRow's fields in its order
    timers = [TimerRow(*r) for r in rows]
    timers.sort(key=lambda t: (t.due_at, t.kind != "warning"))
    return timers


async def next_due(conn: asyncpg.Connection, after: datetime, limit: int) -> list[datetime]:
    rows = await conn.fetch(
        "SELECT due_at FROM timers WHERE due_at > $1 ORDER BY due_at LIMIT $2", after, limit
    )
    return [r["due_at"] for r in rows]


async def read_facts(conn: asyncpg.Connection, tid: str) -> TicketFacts | None:
    row = await conn.fetchrow(
        "SELECT level, severity, entitlement, submitted_at FROM sla_tickets WHERE tid = $1", tid
    )
    if row is None or row["level"] is None:
        return None
    return TicketFacts(row["level"], row["severity"], row["entitlement"], row["submitted_at"])
