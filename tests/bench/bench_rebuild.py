"""Rebuild and replay rates: `python -m tests.bench rebuild`.

Fills intake's stores in a private Postgres with TIDEMARK_BENCH_REBUILD_TICKETS tickets (6
events each: 2 of its own, 4 recorded from the other services; default 20,000 = 120,000
events) and its `tickets` as the live projection wrote them, then times
`tidemark-ops rebuild intake` (tidekit.store.rebuild with intake's read model) and
`tidemark-ops replay intake` of the same store into a fresh topic of a private Kafka. For
comparison, the same rebuild with each stored event fully re-validated (as before
`decode_trusted`).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import time
from collections.abc import Coroutine
from typing import Any, TypeVar
from unittest import mock

import asyncpg

from tests.integration.ops.test_rebuild_intake_swap import fill
from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings
from tidekit.ops.rebuild import read_models
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidekit.store.rebuild import rebuild
from tidemark_devstack.stack import Stack

SCHEMA = "intake"
# intake's rebuild module, wherever the package keeps it (found as tidemark-ops finds it)
intake_rebuild = sys.modules[read_models()["intake"].__module__]
T = TypeVar("T")
_RATE = re.compile(r"([\d,]+) events/s")


async def _prepare(url: str, tickets: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        migrations = [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        await apply_migrations(conn, SCHEMA, migrations)
        started = time.perf_counter()
        await fill(conn, SCHEMA, tickets)
        await conn.execute("VACUUM ANALYZE")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _ops(settings: OpsSettings, *argv: str) -> tuple[str, float]:
    out = io.StringIO()
    code = await run(list(argv), settings, out=out, err=io.StringIO())
    said = out.getvalue().strip().splitlines()[-1]
    assert code == 0, out.getvalue()
    rates = _RATE.findall(said)
    return said, float(rates[-1].replace(",", ""))


def _validated(row: asyncpg.Record) -> DomainEvent:
    return registry.decode(row["event_type"], row["schema_version"], json.loads(row["data"]))


def _on_cpu(job: Coroutine[Any, Any, T]) -> tuple[T, float]:
    """The job's result, and the CPU seconds this process spent on it: on a machine others
    load, events per CPU-second still compare two runs where events/s cannot."""
    started = time.process_time()
    result = asyncio.run(job)
    return result, time.process_time() - started


async def _rebuild_validating(url: str) -> float:
    """events/s of intake's rebuild decoding each event with full validation."""
    conn = await asyncpg.connect(url)
    try:
        with mock.patch.object(intake_rebuild, "stored_event", _validated):
            report = await rebuild(conn, SCHEMA, intake_rebuild.read_model(), lambda _: None)
        return report.rate
    finally:
        await conn.close()


def main() -> dict[str, float]:
    tickets = int(os.environ.get("TIDEMARK_BENCH_REBUILD_TICKETS", "20000"))
    stack = Stack.private("bench-rebuild")
    try:
        stack.install()
        stack.start_postgres()
        stack.start_kafka(fresh=True)
        filled = asyncio.run(_prepare(stack.database_url, tickets))
        settings = OpsSettings(
            database_url=stack.database_url, kafka_bootstrap=stack.kafka.bootstrap
        )
        print(f"\n== rebuild and replay: intake, {tickets * 6:,} events "
              f"({tickets:,} tickets; filled in {filled:.0f} s) ==")  # fmt: skip
        events = tickets * 6
        validating, validating_cpu = _on_cpu(_rebuild_validating(stack.database_url))
        print(f"rebuild intake, events fully re-validated: {validating:,.0f} events/s, "
              f"{events / validating_cpu:,.0f} events per CPU-second")  # fmt: skip
        (rebuilt, rebuild_rate), rebuild_cpu = _on_cpu(_ops(settings, "rebuild", "intake"))
        print(f"tidemark-ops rebuild intake: {rebuilt}; "
              f"{events / rebuild_cpu:,.0f} events per CPU-second")  # fmt: skip
        replayed, replay_rate = asyncio.run(
            _ops(settings, "replay", "intake", "--to-topic", "bench.replay.intake")
        )
        print(f"tidemark-ops replay intake:  {replayed}")
        return {"rebuild_intake_events_per_s": rebuild_rate,
                "rebuild_intake_events_per_cpu_s": events / rebuild_cpu,
                "rebuild_intake_validating_events_per_s": validating,
                "rebuild_intake_validating_events_per_cpu_s": events / validating_cpu,
                "replay_intake_events_per_s": replay_rate, "events": tickets * 6}  # fmt: skip
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
