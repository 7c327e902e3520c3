"""`tidemark-intake-rebuild` (and `tidemark-ops rebuild intake`): rebuild the ticket read
model from the event store.

    uv run tidemark-intake-rebuild            # prints progress and events/s

Folds intake's own events and the other services' events it recorded (foreign_events), in
the order they were recorded, in memory (`fold`), into a scratch copy of `tickets`
that then replaces the live table (tidekit.store.rebuild: writers wait only for the
swap, under a second). Access-token salts are copied from the live rows: customers' tokens
go on working. Not rebuilt (no event of intake's store carries them): license_addresses
(the classifier's directory, from license.recorded), api_keys, credentials, attachments,
idempotency_keys, inbound_mail; see docs/operations.md.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidekit.store.rebuild import (
    Batch,
    ReadModel,
    RebuildReport,
    live_schema,
    rebuild,
    replace_rows,
    stored_event,
)
from tidemark_intake.settings import IntakeSettings

from .fold import COLUMNS, LOST, TicketFold

SOURCE = """
    SELECT event_id, 'own' AS origin, event_type, schema_version, data, recorded_at,
           position AS n
    FROM events
    UNION ALL
    SELECT event_id, 'foreign', event_type, schema_version, data, recorded_at, 0
    FROM foreign_events
"""


def read_model() -> ReadModel:
    """Intake's read model for tidekit.store.rebuild (entry point `tidemark.rebuild`)."""
    fold = TicketFold()

    async def apply(conn: asyncpg.Connection, rows: Batch) -> None:
        for row in rows:
            event = stored_event(row)  # trusted: no re-validation of what intake stored
            if row["origin"] == "own":
                fold.apply_own(event, row["recorded_at"])
            else:
                fold.apply_foreign(event, row["recorded_at"])

    async def flush(conn: asyncpg.Connection) -> None:
        # The access tokens, which no event carries, from the live rows now: copying them in
        # `fix_up` instead would write every row twice (fix_up is left the tickets created
        # after this read).
        tokens = await conn.fetch(
            f"""SELECT tid, token_salt, token_hash FROM {await live_schema(conn)}.tickets
                WHERE tid = ANY($1::text[])""",
            list(fold.dirty),
        )
        fold.keep_tokens((r["tid"], r["token_salt"], r["token_hash"]) for r in tokens)
        tids, rows = fold.take_dirty()  # a ticket folded again is replaced whole
        await replace_rows(conn, "tickets", "tid", tids, COLUMNS, rows)

    async def fix_up(conn: asyncpg.Connection, live: str, scratch: str) -> None:
        await conn.execute(
            f"""UPDATE {scratch}.tickets s SET token_salt = l.token_salt, token_hash = l.token_hash
                FROM {live}.tickets l WHERE s.tid = l.tid AND s.token_salt = '{LOST}'"""
        )

    return ReadModel(["tickets"], SOURCE, apply, flush, fix_up, apply_in_memory=True)


async def run(database_url: str, schema: str) -> RebuildReport:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema}, timeout=10)
    try:
        await apply_migrations(
            conn, schema, [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        )
        return await rebuild(conn, schema, read_model())
    finally:
        await conn.close()


def main() -> int:
    settings = IntakeSettings()
    try:
        report = asyncio.run(run(settings.database_url, settings.db_schema))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"tidemark-intake-rebuild: {exc}", file=sys.stderr)
        return 1
    print(
        f"rebuilt tickets from {report.events:,} events in {report.seconds:.2f} s "
        f"({report.rate:,.0f} events/s; writers held {report.locked_seconds * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
