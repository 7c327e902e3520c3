"""`tidemark-intake-rebuild` gives back exactly the read model the live service built."""

from __future__ import annotations

import asyncio
import os
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
            [sys.executable, "-m", "tidemark_intake.rebuild"],
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
