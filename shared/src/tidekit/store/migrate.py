"""Numbered SQL migrations, applied at start-up into the service's own schema.

Files are named `NNNN_description.sql` and applied in order in one transaction,
under an advisory lock so that two replicas starting together apply each file once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class MigrationSet:
    """The migration files of one component (`tidekit` or a service) in a package folder."""

    component: str
    package: str
    folder: str = "migrations"

    def files(self) -> list[tuple[int, str, str]]:
        root: Traversable = resources.files(self.package).joinpath(self.folder)
        found = []
        for entry in root.iterdir():
            match = _NAME.match(entry.name)
            if match:
                found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
            elif entry.name.endswith(".sql"):
                raise ValueError(f"migration {entry.name} does not match NNNN_name.sql")
        found.sort()
        numbers = [n for n, _, _ in found]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.component} migrations are not numbered 1..n: {numbers}")
        return found


CORE_MIGRATIONS = MigrationSet("tidekit", "tidekit.store")


async def apply_migrations(conn: asyncpg.Connection, schema: str, sets: list[MigrationSet]) -> int:
    """Create `schema` if needed and apply every migration not yet applied. Returns the count."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"bad schema name {schema!r}")
    applied = 0
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    component text NOT NULL, number integer NOT NULL, name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, number))"""
        )
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        for mset in sets:
            done = {
                r["number"]
                for r in await conn.fetch(
                    "SELECT number FROM schema_migrations WHERE component = $1", mset.component
                )
            }
            for number, name, sql in mset.files():
                if number in done:
                    continue
                log.info("applying migration", extra={"schema": schema, "migration": name})
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (component, number, name) VALUES ($1, $2, $3)",
                    mset.component,
                    number,
                    name,
                )
                applied += 1
    return applied
