"""The swap of a rebuild (tidekit.store.rebuild): scratch tables moved in place of the live
ones, with the live index names, owned sequences and foreign keys carried over."""

from __future__ import annotations

import re

import asyncpg

_INDEX_NAME = re.compile(r"INDEX \S+ ON \S+\.")


async def move_tables(
    conn: asyncpg.Connection, live: str, scratch: str, retired: str, tables: list[str]
) -> None:
    await conn.execute(f"SET LOCAL search_path TO {live}")  # constraint defs print unqualified
    await conn.execute(f"CREATE SCHEMA {retired}")
    foreign_keys = await conn.fetch(
        """SELECT c.conname, n.nspname, t.relname, pg_get_constraintdef(c.oid) AS def
           FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE c.contype = 'f' AND (c.conrelid = ANY($1::regclass[])
                                      OR c.confrelid = ANY($1::regclass[]))""",
        [f"{live}.{t}" for t in tables],
    )
    for fk in foreign_keys:
        await conn.execute(
            f'ALTER TABLE {fk["nspname"]}.{fk["relname"]} DROP CONSTRAINT "{fk["conname"]}"'
        )
    for table in tables:
        names = {d: n for n, d in await _indexes(conn, live, table)}
        owned = await conn.fetch(
            """SELECT s.oid::regclass::text AS seq, a.attname
               FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
               WHERE d.refobjid = $1::regclass AND d.deptype = 'a'""",
            f"{live}.{table}",
        )
        for seq in owned:  # else it would move out (and be dropped) with the old table
            await conn.execute(f"ALTER SEQUENCE {seq['seq']} OWNED BY NONE")
        await conn.execute(f"ALTER TABLE {live}.{table} SET SCHEMA {retired}")
        await conn.execute(f"ALTER TABLE {scratch}.{table} SET SCHEMA {live}")
        for seq in owned:
            await conn.execute(
                f"ALTER SEQUENCE {seq['seq']} OWNED BY {live}.{table}.{seq['attname']}"
            )
        for name, definition in await _indexes(conn, live, table):
            wanted = names.get(definition)
            if wanted and wanted != name:
                await conn.execute(f'ALTER INDEX {live}."{name}" RENAME TO "{wanted}"')
    for fk in foreign_keys:  # re-pointed at the new tables; validated after the commit
        await conn.execute(
            f'ALTER TABLE {fk["nspname"]}.{fk["relname"]} ADD CONSTRAINT "{fk["conname"]}" '
            f"{fk['def']} NOT VALID"
        )


async def _indexes(conn: asyncpg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, definition without its name and schema) of each index of the table."""
    rows = await conn.fetch(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid) AS def
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = $1::regclass""",
        f"{schema}.{table}",
    )
    return [(r["relname"], _INDEX_NAME.sub("INDEX ON ", r["def"])) for r in rows]


async def validate_foreign_keys(conn: asyncpg.Connection, live: str, tables: list[str]) -> None:
    """VALIDATE takes a lock writers pass (SHARE UPDATE EXCLUSIVE)."""
    rows = await conn.fetch(
        """SELECT c.conname, c.conrelid::regclass::text AS rel FROM pg_constraint c
           WHERE c.contype = 'f' AND NOT c.convalidated AND (c.conrelid = ANY($1::regclass[])
                                                          OR c.confrelid = ANY($1::regclass[]))""",
        [f"{live}.{t}" for t in tables],
    )
    for r in rows:
        try:
            await conn.execute(f'ALTER TABLE {r["rel"]} VALIDATE CONSTRAINT "{r["conname"]}"')
        except asyncpg.ForeignKeyViolationError as exc:
            raise ValueError(
                f"swapped in, but {r['rel']}.{r['conname']} no longer holds (left NOT VALID): "
                f"the rebuilt tables lack rows it references ({exc.detail})"
            ) from exc
