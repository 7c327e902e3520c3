"""Writes to a service's own tables that travel in the events' statement (uow.stage).

A `TableWrite` becomes a data-modifying CTE of the event store's one statement: it lands
with the events or not at all, in the same round trip, and before them (see
`with_table_writes`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class TableWrite:
    """A write to a service's own table that goes with the events, in their statement: one
    INSERT, UPDATE or DELETE with parameters $1…$n, no RETURNING and no trailing semicolon.
    It becomes a data-modifying CTE of the events' statement, so it lands with them or not
    at all, in the same round trip, and it is written **before** the events (their
    statement waits for it): a consumed event staged with the events its handler decided
    is recorded first, the order a rebuild folds them in. Several of them see the same
    snapshot and not each other's rows: never two writes to one row.

    `required`: the events are written only if this write changed a row (the other writes
    land either way), e.g. an outcome recorded for a row still in the state it was claimed
    in: the statement that checks the row writes the event, or nothing."""

    sql: str
    args: tuple[Any, ...] = ()
    required: bool = False

    async def execute(self, conn: asyncpg.Connection) -> None:
        """On its own, where nothing goes with it."""
        await conn.execute(self.sql, *self.args)


def with_table_writes(
    sql: str, args: Sequence[Any], writes: Sequence[TableWrite]
) -> tuple[str, list[Any]]:
    """`sql` (whose text has a `{table_writes}` slot right after its WITH, and an
    `{after_table_writes}` condition where its own writes read their rows) with `writes`
    as CTEs before its own, their parameters numbered after `args`. The condition reads
    every write's result (a one-time filter, evaluated before the first row is read), so
    the writes are done before the statement's own rows are written; unreferenced, they
    would run after it."""
    all_args = list(args)
    for w in writes:
        all_args.extend(w.args)
    shape = (sql, len(args), tuple((w.sql, len(w.args), w.required) for w in writes))
    return _composed(shape), all_args


def _shifted(placeholder: re.Match[str], by: int) -> str:
    return f"${int(placeholder.group(1)) + by}"


@functools.lru_cache(maxsize=256)  # a handler writes the same shapes again and again
def _composed(shape: tuple[str, int, tuple[tuple[str, int, bool], ...]]) -> str:
    sql, offset, writes = shape
    ctes: list[str] = []
    for i, (write_sql, arg_count, _) in enumerate(writes):
        renumbered = _PARAMETER.sub(functools.partial(_shifted, by=offset), write_sql)
        ctes.append(f"table_write_{i} AS ({renumbered} RETURNING 1),\n")
        offset += arg_count
    done = " + ".join(f"(SELECT count(*) FROM table_write_{i})" for i in range(len(writes)))
    required = "".join(
        f" AND (SELECT count(*) FROM table_write_{i}) > 0"
        for i, (_, _, must_change) in enumerate(writes)
        if must_change
    )
    after = f"{done} >= 0{required}" if writes else "true"
    return sql.replace("{table_writes}", "".join(ctes), 1).replace("{after_table_writes}", after, 1)


async def table_writes_alone(conn: asyncpg.Connection, writes: Sequence[TableWrite]) -> None:
    sql, args = with_table_writes(
        "WITH {table_writes}done AS (SELECT 1) SELECT 1 WHERE {after_table_writes}", [], writes
    )
    await conn.execute(sql, *args)
