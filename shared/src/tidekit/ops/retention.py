"""`retention`: what the services' retention workers would prune now, deleting nothing.

Per service and table: the rows past their retention setting (they go in the worker's
next round), the rows kept, and the oldest row kept. The settings are the shared variables
the services read (TIDEMARK_OUTBOX_RETENTION, TIDEMARK_INBOX_RETENTION,
TIDEMARK_IDEMPOTENCY_KEY_RETENTION); "now" is TIDEMARK_CLOCK's, as in the services.
"""

from __future__ import annotations

from typing import TextIO

from tidekit.clock import clock_from_setting
from tidekit.events.topics import TOPICS
from tidekit.ops.connect import OpsSettings, database, schema_of
from tidekit.ops.records import as_table
from tidekit.store.retention import RetentionRule, preview


def rules_for(settings: OpsSettings, service: str) -> list[RetentionRule]:
    """The rules `service`'s worker runs (intake also prunes its Idempotency-Keys)."""
    rules = settings.retention_rules()
    if service == "intake":
        keys = RetentionRule("idempotency_keys", "created_at", settings.idempotency_key_retention)
        rules.append(keys)
    return rules


async def retention(
    settings: OpsSettings, out: TextIO, *, service: str | None = None, schema: str | None = None
) -> int:
    if schema is not None and service is None:
        raise ValueError("--schema needs --service")
    now = clock_from_setting(settings.clock).now()
    rows: list[list[object]] = []
    async with database(settings) as conn:
        for name in [service] if service else list(TOPICS):
            where = schema or schema_of(name)
            present = await conn.fetchval(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1", where
            )
            if not present:
                if service:
                    raise ValueError(f"no schema {where!r}: {name} never ran on this database")
                continue  # that service never ran here: nothing to prune
            for p in await preview(conn, where, rules_for(settings, name), now):
                oldest = p.oldest_kept.isoformat(timespec="seconds") if p.oldest_kept else "-"
                rows.append([name, p.table, _duration(p.keep), p.expired, p.kept, oldest])
    out.write(as_table(rows, ("service", "table", "keep", "would prune", "kept",
                              "oldest kept")) + "\n")  # fmt: skip
    out.write(f"(nothing deleted; the services' workers prune every "
              f"{_duration(settings.retention_interval)})\n")  # fmt: skip
    return 0


def _duration(d: object) -> str:
    text = str(d)
    return text.removesuffix(", 0:00:00")
