"""`replay` into a fresh topic (same ids, per-TID order, resumable) and `lag` (non-zero
while a group is stopped, zero once it has caught up; the exit status follows --max-lag)."""

from __future__ import annotations

import asyncio
import io
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidekit.events import registry
from tidekit.events.intake import TicketRated
from tidekit.kafka.consumer import EventConsumer
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork
from tidekit.ops.cli import run
from tidekit.ops.connect import kafka_reader
from tidekit.ops.records import read_topic

from .conftest import OpsBench

pytestmark = pytest.mark.integration
TICKETS, PER_TICKET = 60, 50  # 3000 events


async def fill(bench: OpsBench) -> None:
    now = datetime.now(UTC)
    for first in range(0, TICKETS, 10):
        streams = [
            (f"TID-R{n}", 0, [TicketRated(tid=f"TID-R{n}", rating=1 + k % 5, rated_at=now)
                              for k in range(PER_TICKET)])
            for n in range(first, first + 10)
        ]  # fmt: skip
        async with bench.pool.acquire() as conn, conn.transaction():
            await bench.store.append_many(conn, streams)


async def store_ids(bench: OpsBench, from_position: int = 1) -> dict[str, list[str]]:
    rows = await bench.pool.fetch(
        "SELECT stream_id, event_id FROM events WHERE position >= $1 ORDER BY position",
        from_position,
    )
    ids: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        ids[r["stream_id"]].append(str(r["event_id"]))
    return ids


async def topic_ids(bench: OpsBench, topic: str) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = defaultdict(list)
    async with kafka_reader(bench.settings) as consumer:
        async for r in read_topic(consumer, topic):
            assert r.key == r.header("ce_subject").encode()  # keyed by the TID
            ids[r.header("ce_subject")].append(r.header("ce_id"))
    return ids


async def test_replay_into_a_fresh_topic_keeps_ids_and_per_ticket_order(
    bench_replay: OpsBench, tmp_path: Path
) -> None:
    bench = bench_replay
    await fill(bench)
    fresh = f"{bench.schema}.replay.v1"
    base = ["replay", "intake", "--schema", bench.schema, "--to-topic", fresh]

    code, said = await bench.ops(*base, "--dry-run")
    assert code == 0 and f"would replay {TICKETS * PER_TICKET} event(s)" in said, said
    checkpoint = tmp_path / "replay.json"
    code, said = await bench.ops(*base, "--checkpoint", str(checkpoint))
    assert code == 0, said
    rate = re.search(r"replayed (\d+) event\(s\).* (\d+) events/s", said)
    assert rate and int(rate.group(1)) == TICKETS * PER_TICKET, said
    print(f"\nreplay: {said.strip().splitlines()[-1]}")  # the figure for the report
    assert await topic_ids(bench, fresh) == await store_ids(bench)

    # Resumed from the checkpoint: nothing is left, nothing is sent twice.
    code, said = await bench.ops(*base, "--checkpoint", str(checkpoint))
    assert code == 0 and "replayed 0 event(s)" in said, said
    # From a position: only the events from there on.
    other = f"{bench.schema}.replay2.v1"
    code, said = await bench.ops("replay", "intake", "--schema", bench.schema,
                                 "--from-position", "2901", "--to-topic", other)  # fmt: skip
    assert code == 0 and "replayed 100 event(s)" in said, said
    assert await topic_ids(bench, other) == await store_ids(bench, 2901)


async def lag_of(bench: OpsBench, group: str) -> tuple[int, str]:
    return await bench.ops("lag", "--group", group, "--max-lag", "0")


async def test_lag_is_seen_while_a_group_is_stopped_and_zero_once_it_caught_up(
    ops_bench: OpsBench,
) -> None:
    bench = ops_bench
    group = f"{bench.settings.topic_namespace}tidemark.notifier.main"
    handled: list[int] = []

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        handled.append(event.rating)

    def consumer() -> EventConsumer:
        return EventConsumer(name=group, kafka=bench.settings.kafka_bootstrap,
                             topics=[bench.topic], pool=bench.pool, registry=registry,
                             handlers=HandlerRegistry({TicketRated: on_rated}),
                             store=bench.store, dlq_producer=bench.producer)  # fmt: skip

    await bench.append("TID-L1", 1)
    await bench.publish()
    task = asyncio.create_task(consumer().run())
    async with asyncio.timeout(30):
        while (await lag_of(bench, group))[0] != 0 or not handled:
            await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    for stars in (2, 3, 4):
        await bench.append("TID-L1", stars)
    await bench.publish()
    code, table = await lag_of(bench, group)
    assert code == 1, table
    (row,) = [line.split() for line in table.splitlines() if line.startswith(group)
              and line.split()[5] != "0"]  # fmt: skip
    assert row[1] == bench.topic and row[5] == "3" and row[6].endswith("s"), table
    assert "above --max-lag 0" in table

    bench.tasks.append(asyncio.create_task(consumer().run()))
    async with asyncio.timeout(30):
        while (await lag_of(bench, group))[0] != 0:
            await asyncio.sleep(0.2)
    assert handled == [1, 2, 3, 4]


class CtrlCAfter(io.StringIO):
    """stderr that stands for an operator pressing Ctrl-C once `lines` progress lines were
    written (asyncio.run cancels the command's task: a CancelledError where it awaits)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        written = super().write(text)
        if " events/s" in text:
            self.lines -= 1
            if self.lines == 0:
                raise asyncio.CancelledError
        return written


async def test_an_interrupted_replay_says_where_to_resume_and_loses_nothing(
    bench_replay: OpsBench,
) -> None:
    bench = bench_replay
    await fill(bench)
    fresh = f"{bench.schema}.interrupted.v1"
    argv = ["replay", "intake", "--schema", bench.schema, "--to-topic", fresh,
            "--batch-size", "400"]  # fmt: skip
    err = CtrlCAfter(lines=2)
    with pytest.raises(asyncio.CancelledError):
        await run(argv, bench.settings, out=io.StringIO(), err=err)
    resume = re.search(r"resume with: tidemark-ops replay intake --from-position (\d+)",
                       err.getvalue())  # fmt: skip
    assert resume and int(resume.group(1)) == 801, err.getvalue()  # two batches were acked
    code, said = await bench.ops(*argv, "--from-position", resume.group(1))
    assert code == 0 and f"replayed {TICKETS * PER_TICKET - 800} event(s)" in said, said
    assert await topic_ids(bench, fresh) == await store_ids(bench)  # no gap, no repeat


async def test_replay_of_a_schema_that_is_not_there_is_one_line(ops_bench: OpsBench) -> None:
    code, said = await ops_bench.ops("replay", "intake", "--schema", "no_such_service",
                                     "--to-topic", f"{ops_bench.schema}.nothing")  # fmt: skip
    assert code == 2 and said.count("\n") == 1, said
    assert said.startswith("tidemark-ops: PostgreSQL refused: UndefinedTableError"), said
