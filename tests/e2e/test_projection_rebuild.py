"""`tidemark-intake-rebuild` gives back exactly the read model the live service built."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid

import asyncpg
import pytest

from .conftest import System, poll
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e


async def _wreck(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """UPDATE intake.tickets SET status = 'new', level = NULL, queue = NULL,
                   messages = '[]', obligations = '{}', rating = NULL"""
        )
    finally:
        await conn.close()


def test_rebuild_restores_every_ticket_and_keeps_tokens(system: System, database_url: str) -> None:
    made = []
    with system.client("intake") as intake, system.client("intake", system.keys.agent) as staff:
        for n in range(3):
            r = intake.post(
                "/v1/tickets", json=new_ticket(f"rb-{uuid.uuid4().hex[:6]}@example.com")
            )
            tid, token = r.json()["tid"], r.json()["access_token"]
            made.append((tid, {"Authorization": f"Bearer {token}"}))
            poll(
                lambda tid=tid: staff.get(f"/v1/tickets/{tid}").json(),  # type: ignore[misc]
                lambda t: t["status"] == "open" and t["queue"] and t["obligations"],
            )
            staff.post(f"/v1/tickets/{tid}/messages", json={"body": f"answer {n}"})
            if n == 1:
                staff.post(f"/v1/tickets/{tid}/status", json={"status": "on_hold"})
        # Let the other services' answers (sla.clock_met for each reply) arrive first.
        before = {
            tid: poll(
                lambda tid=tid: staff.get(f"/v1/tickets/{tid}").json(),  # type: ignore[misc]
                lambda t: t["obligations"][0]["state"] == "met",
            )
            for tid, _ in made
        }

        asyncio.run(_wreck(database_url))
        assert staff.get(f"/v1/tickets/{made[0][0]}").json()["messages"] == []

        env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
        done = subprocess.run(
            [sys.executable, "-m", "tidemark_intake.tickets.rebuild"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "events/s" in done.stdout

        after = {tid: staff.get(f"/v1/tickets/{tid}").json() for tid, _ in made}
        differing = {
            (tid, field): (before[tid][field], after[tid].get(field))
            for tid in before
            for field in before[tid]
            if before[tid][field] != after[tid].get(field)
        }
        assert differing == {}
        for tid, customer in made:  # customers' tokens still open their tickets
            with system.client("intake", key="") as anon:
                assert anon.get(f"/v1/tickets/{tid}", headers=customer).status_code == 200


async def _tables(
    database_url: str, schema: str, table: str
) -> tuple[list[dict[str, object]], list[str], list[str]]:
    """The table's rows (without updated_at: the moment a row was written, not an event's),
    its index names and the foreign keys pointing at it."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = [
            {k: v for k, v in r.items() if k != "updated_at"}
            for r in await conn.fetch(f"SELECT * FROM {schema}.{table} ORDER BY tid")
        ]
        indexes = [
            r["indexname"]
            for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 "
                "ORDER BY indexname",
                schema,
                table,
            )
        ]
        fks = [
            r["conname"]
            for r in await conn.fetch(
                """SELECT conname FROM pg_constraint WHERE contype = 'f' AND convalidated
                   AND confrelid = $1::regclass ORDER BY conname""",
                f"{schema}.{table}",
            )
        ]
        return rows, indexes, fks
    finally:
        await conn.close()


def _ops_rebuild(database_url: str, service: str) -> None:
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "tidekit.ops.cli", "rebuild", service],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    print(f"\n{done.stdout.strip().splitlines()[-1]}")  # the figure for the report
    held = re.search(r"writers waited (\d+) ms", done.stdout)
    assert held and int(held.group(1)) < 1000, done.stdout


def _differing(
    live: list[dict[str, object]], rebuilt: list[dict[str, object]]
) -> dict[tuple[object, str], tuple[object, object]]:
    by_tid = {r["tid"]: r for r in rebuilt}
    return {
        (row["tid"], column): (value, by_tid.get(row["tid"], {}).get(column))
        for row in live
        for column, value in row.items()
        if by_tid.get(row["tid"], {}).get(column) != value
    }


@pytest.mark.parametrize(("service", "schema", "table"), [
    ("intake", "intake", "tickets"),
    ("classifier", "classifier", "classifications"),
])  # fmt: skip
def test_ops_rebuild_swaps_in_tables_equal_to_the_live_ones(
    system: System, database_url: str, service: str, schema: str, table: str
) -> None:
    with system.client("intake") as intake, system.client("intake", system.keys.agent) as staff:
        for n in range(3):
            r = intake.post(
                "/v1/tickets", json=new_ticket(f"swap-{uuid.uuid4().hex[:6]}@example.com")
            )
            tid = r.json()["tid"]
            poll(
                lambda tid=tid: staff.get(f"/v1/tickets/{tid}").json(),  # type: ignore[misc]
                lambda t: t["status"] == "open" and t["queue"] and t["obligations"],
            )
            staff.post(f"/v1/tickets/{tid}/messages", json={"body": f"answer {n}"})
            poll(
                lambda tid=tid: staff.get(f"/v1/tickets/{tid}").json(),  # type: ignore[misc]
                lambda t: t["obligations"][0]["state"] == "met",
            )
        live = asyncio.run(_tables(database_url, schema, table))
        assert len(live[0]) >= 3

        _ops_rebuild(database_url, service)

        rebuilt = asyncio.run(_tables(database_url, schema, table))
        assert rebuilt[1:] == live[1:]  # same index names, foreign keys re-pointed and valid
        assert _differing(live[0], rebuilt[0]) == {}
        assert len(rebuilt[0]) == len(live[0])
        # The services go on reading and writing the swapped-in tables.
        fresh = intake.post("/v1/tickets", json=new_ticket("after-swap@example.com")).json()
        poll(
            lambda: staff.get(f"/v1/tickets/{fresh['tid']}").json(),
            lambda t: t["status"] == "open" and t["queue"],
        )
        assert (
            staff.post(f"/v1/tickets/{fresh['tid']}/messages", json={"body": "after"}).status_code
            < 300
        )
        after = asyncio.run(_tables(database_url, schema, table))
        assert fresh["tid"] in {r["tid"] for r in after[0]}
