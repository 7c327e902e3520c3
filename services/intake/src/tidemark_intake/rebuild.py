"""`tidemark-intake-rebuild`: rebuild the ticket read model from the event store.

    uv run tidemark-intake-rebuild            # prints progress and events/s

Replays intake's own events and the other services' events it recorded, in the order they
were recorded, into a scratch copy of `tickets`, then replaces the live rows in one
transaction. Writers (new tickets, replies, consumers) wait while it runs — they do not
fail — so run it in a quiet moment. Access-token salts are kept: customers' tokens go on
working.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import asyncpg

from tidekit.events import registry
from tidekit.events.intake import TicketSubmitted
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations

from . import projection
from .settings import IntakeSettings

SCRATCH = "intake_rebuild"
_REPLAY = """
    SELECT 'own' AS origin, event_type, schema_version, data, recorded_at, position AS n
    FROM events
    UNION ALL
    SELECT 'foreign', event_type, schema_version, data, recorded_at, 0
    FROM foreign_events
    ORDER BY recorded_at, n
"""


async def rebuild(conn: asyncpg.Connection, schema: str, progress: Any = print) -> int:
    """Rebuild `schema`.tickets from its events; returns the number of events replayed."""
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {schema}.tickets IN SHARE ROW EXCLUSIVE MODE")
        secrets = {
            r["tid"]: (r["token_salt"], r["token_hash"])
            for r in await conn.fetch(f"SELECT tid, token_salt, token_hash FROM {schema}.tickets")
        }
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        await conn.execute(f"CREATE SCHEMA {SCRATCH}")
        await conn.execute(
            f"CREATE TABLE {SCRATCH}.tickets (LIKE {schema}.tickets INCLUDING DEFAULTS)"
        )
        # The projection's SQL says `tickets`: the scratch copy comes first on the path.
        await conn.execute(f"SET LOCAL search_path TO {SCRATCH}, {schema}")
        replayed = 0
        async for row in conn.cursor(_REPLAY, prefetch=2000):
            event = registry.decode(
                row["event_type"], row["schema_version"], json.loads(row["data"])
            )
            if row["origin"] == "foreign":
                await projection.apply_foreign(conn, event)
            elif isinstance(event, TicketSubmitted):
                salt, token_hash = secrets.get(event.tid, ("lost", "lost"))
                await projection.insert_ticket(conn, event, salt, token_hash)
            else:
                await projection.apply_own(conn, event)
            replayed += 1
            if replayed % 10_000 == 0:
                progress(f"  {replayed:,} events replayed")
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        # Same rows, new contents: delete and re-insert would trip the vault's foreign key.
        columns = [
            r["column_name"]
            for r in await conn.fetch(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_schema = $1 AND table_name = 'tickets'""",
                schema,
            )
        ]
        assignments = ", ".join(f"{c} = r.{c}" for c in columns if c != "tid")
        await conn.execute(
            f"UPDATE {schema}.tickets t SET {assignments} FROM {SCRATCH}.tickets r "
            "WHERE t.tid = r.tid"
        )
        await conn.execute(
            f"INSERT INTO {schema}.tickets SELECT * FROM {SCRATCH}.tickets r "
            f"WHERE NOT EXISTS (SELECT 1 FROM {schema}.tickets t WHERE t.tid = r.tid)"
        )
        await conn.execute(f"DROP SCHEMA {SCRATCH} CASCADE")
    return replayed


async def _main(settings: IntakeSettings) -> int:
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.db_schema}, timeout=10
    )
    try:
        await apply_migrations(
            conn, settings.db_schema, [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        )
        started = time.perf_counter()
        replayed = await rebuild(conn, settings.db_schema)
        took = time.perf_counter() - started
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        rate = replayed / took if took > 0 else 0.0
        print(
            f"rebuilt {tickets:,} tickets from {replayed:,} events in {took:.2f} s "
            f"({rate:,.0f} events/s)"
        )
        return 0
    finally:
        await conn.close()


def main() -> int:
    try:
        return asyncio.run(_main(IntakeSettings()))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"tidemark-intake-rebuild: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
