"""Table writes become CTEs of the events' statement, their parameters numbered after the
statement's own, so each value still lands in its own placeholder."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tidekit.store.table_writes import TableWrite, with_table_writes

MAIN = "WITH {table_writes}main AS (SELECT $1, $2 WHERE {after_table_writes}) SELECT * FROM main"


def test_writes_are_numbered_after_the_statements_parameters() -> None:
    sql, args = with_table_writes(
        MAIN,
        ["a", "b"],
        [
            TableWrite("INSERT INTO t VALUES ($1, $2)", (1, 2)),
            TableWrite("UPDATE u SET x = $2 WHERE id = $1 AND y = $1", ("id", "x")),
        ],
    )
    assert sql == (
        "WITH table_write_0 AS (INSERT INTO t VALUES ($3, $4) RETURNING 1),\n"
        "table_write_1 AS (UPDATE u SET x = $6 WHERE id = $5 AND y = $5 RETURNING 1),\n"
        "main AS (SELECT $1, $2 WHERE (SELECT count(*) FROM table_write_0)"
        " + (SELECT count(*) FROM table_write_1) >= 0) SELECT * FROM main"
    )
    assert args == ["a", "b", 1, 2, "id", "x"]


def test_no_writes_leave_the_statement_as_it_was() -> None:
    assert with_table_writes(MAIN, ["a", "b"], []) == (
        "WITH main AS (SELECT $1, $2 WHERE true) SELECT * FROM main",
        ["a", "b"],
    )


@given(st.lists(st.integers(min_value=1, max_value=12), max_size=6), st.integers(0, 20))
def test_every_placeholder_points_at_its_own_value(sizes: list[int], own: int) -> None:
    """Each write's $k ends up naming the value the write gave as its k-th argument."""
    writes = [
        TableWrite(
            "INSERT INTO t VALUES (" + ", ".join(f"${k}" for k in range(size, 0, -1)) + ")",
            tuple(f"w{i}.{k}" for k in range(1, size + 1)),
        )
        for i, size in enumerate(sizes)
    ]
    main = "WITH {table_writes}x AS (SELECT 1 WHERE {after_table_writes}) SELECT 1"
    sql, args = with_table_writes(main, [0] * own, writes)
    for i, size in enumerate(sizes):
        cte = re.search(rf"table_write_{i} AS \((.*?) RETURNING 1\),\n", sql)
        assert cte is not None
        named = [args[int(n) - 1] for n in re.findall(r"\$(\d+)", cte.group(1))]
        assert named == [f"w{i}.{k}" for k in range(size, 0, -1)]
