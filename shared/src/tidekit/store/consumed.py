"""The foreign events a service's consumers handled, kept for rebuilding its read models.

A consumer whose `ConsumerSpec.record_consumed` is set writes each envelope it handles into
`consumed_events` (migrations_consumed), in the transaction of its inbox row: a record
rolled back (a retried batch, a dead-lettered handler error) is not recorded either. The
service's rebuild (tidekit.store.rebuild) then folds these with its own events, in the order
they were recorded, and refuses when the record has a gap (`missing_history`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from tidekit.events.envelope import Envelope
from tidekit.store.migrate import MigrationSet
from tidekit.store.table_writes import TableWrite

CONSUMED_MIGRATIONS = MigrationSet("tidekit.consumed", "tidekit.store", "migrations_consumed")


def row(consumer: str, env: Envelope) -> TableWrite:
    """The envelope's `consumed_events` row, written with the handler's events (uow.stage)."""
    return TableWrite(
        """INSERT INTO consumed_events (consumer, event_id, event_type, schema_version, source,
               subject, data, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) ON CONFLICT DO NOTHING""",
        (
            consumer,
            env.id,
            env.type,
            env.schema_version,
            env.source,
            env.subject,
            json.dumps(env.data),
            env.time,
        ),
    )


def source_sql(own_types: Sequence[str] = ()) -> str:
    """The rows a ReadModel folds (tidekit.store.rebuild): the service's own events of
    `own_types` (origin 'own') and every consumed event (origin 'foreign')."""
    own = ", ".join(f"'{t}'" for t in own_types)
    own_part = (
        f"""SELECT event_id, 'own' AS origin, event_type, schema_version, data, recorded_at,
               position AS n
        FROM events WHERE event_type IN ({own})
        UNION ALL
        """
        if own_types
        else ""
    )
    first_origin = "'foreign'" if own_types else "'foreign' AS origin"
    return f"""{own_part}SELECT event_id, {first_origin}, event_type, schema_version, data,
               recorded_at, n
        FROM consumed_events"""


async def missing_history(conn: asyncpg.Connection) -> str | None:
    """Why the recorded consumed events are not the whole history (None: they are). The
    live schema is on the search path."""
    if await conn.fetchval("SELECT to_regclass('consumed_events_history')") is None:
        return "it records no consumed events (no consumed_events table: migrate it first)"
    began = await conn.fetchval(
        "SELECT min(began_at) FROM consumed_events_history WHERE NOT complete"
    )
    if began is not None:
        return (
            f"it handled events before it began recording them ({began:%Y-%m-%d %H:%M} UTC): "
            "consumed_events lacks those"
        )
    unrecorded = await conn.fetchval(
        """SELECT count(*) FROM inbox i WHERE NOT EXISTS (
               SELECT 1 FROM consumed_events c
               WHERE c.consumer = i.consumer AND c.event_id = i.event_id)"""
    )
    if unrecorded:
        return (
            f"{unrecorded:,} handled events are in its inbox but not in consumed_events "
            "(a consumer without record_consumed?)"
        )
    return None
