"""Bulk import of licenses: `tidemark-classifier-import FILE` or
`python -m tidemark_classifier.importer FILE`.

Reads CSV (with a header row) or JSON lines, validates every row like `PUT /v1/licenses`,
and records the valid ones in the classifier's database, each change with its
`license.recorded` event (the running service's relay publishes them). Rejected rows are
reported on stderr as `line N: what is wrong`. Exit status: 0 all rows imported, 1 some
rows rejected (the others are imported), 2 the file or the database could not be used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

import asyncpg

from tidekit.clock import clock_from_setting
from tidekit.events import registry
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.eventstore import EventStore
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations

from .directory import save_license
from .import_rows import Accepted, Format, Rejected, format_for, parse
from .rules_file import load_rules
from .settings import ClassifierSettings

CHUNK = 200


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    fmt: Format | None = args.format or format_for(args.file.name)
    if fmt is None:
        print(f"{args.file}: say --format csv or --format jsonl", file=sys.stderr)
        return 2
    try:
        text = args.file.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    results = list(parse(text.splitlines(), fmt))
    rejected = [r for r in results if isinstance(r, Rejected)]
    accepted = [r for r in results if isinstance(r, Accepted)]
    for r in rejected:
        print(f"line {r.line}: {r.error}", file=sys.stderr)
    counts: Counter[str] = Counter()
    if accepted and not args.dry_run:
        try:
            counts = asyncio.run(_record(accepted, args.by))
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"database: {exc}", file=sys.stderr)
            return 2
    summary = ", ".join(f"{counts[k]} {k}" for k in ("registered", "updated", "unchanged"))
    verb = "valid (dry run)" if args.dry_run else summary
    print(f"{len(accepted)} rows {verb}; {len(rejected)} rejected")
    return 1 if rejected else 0


def _arguments() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tidemark-classifier-import", description=__doc__)
    p.add_argument("file", type=Path, help="CSV with a header row, or JSON lines")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
    p.add_argument("--by", default="import", help="recorded_by of the events (default: import)")
    p.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    return p


async def _record(rows: list[Accepted], by: str) -> Counter[str]:
    settings = ClassifierSettings()
    rules = load_rules(settings.rules_file)
    clock = clock_from_setting(settings.clock)  # the service's clock, as PUT /v1/licenses has
    store = EventStore(
        source="tidemark/classifier",
        topic=settings.topic("classifier"),
        registry=registry,
        clock=clock,
    )
    counts: Counter[str] = Counter()
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.db_schema}
    )
    try:
        migrations = [CORE_MIGRATIONS, MigrationSet("classifier", "tidemark_classifier")]
        await apply_migrations(conn, settings.db_schema, migrations)
        for start in range(0, len(rows), CHUNK):
            async with conn.transaction():
                uow = UnitOfWork(conn, store)  # a chunk's events in one statement
                for item in rows[start : start + CHUNK]:
                    body = item.row
                    event = await save_license(
                        uow, body.license_key, body, source="import", recorded_by=by,
                        rules=rules,
                    )  # fmt: skip
                    counts[event.change if event else "unchanged"] += 1
                await uow.flush()
    finally:
        await conn.close()
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
