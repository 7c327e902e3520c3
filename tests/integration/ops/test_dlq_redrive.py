"""A poison record dead-lettered, seen with `dlq list/show`, then re-driven (twice) to the
consumer group that failed it, once its handler is fixed: handled exactly once, by that
group only, without a record written to the service's own topic."""

from __future__ import annotations

import asyncio

import pytest

from tidekit.events import dlq_topic, redrive_topic, registry
from tidekit.events.intake import TicketRated
from tidekit.kafka.consumer import EventConsumer
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork
from tidekit.ops.connect import kafka_reader
from tidekit.ops.lag import group_lags
from tidekit.ops.records import read_topic

from .conftest import OpsBench

pytestmark = pytest.mark.integration


async def topic_records(bench: OpsBench, topic: str) -> list:
    async with kafka_reader(bench.settings) as consumer:
        return [r async for r in read_topic(consumer, topic)]


async def caught_up(bench: OpsBench, group: str, topic: str, records: int) -> None:
    """Wait until `group` has committed past `records` records of `topic` (its position)."""
    lags: list = []
    try:
        async with asyncio.timeout(30):
            while True:
                lags = [p for p in await group_lags(bench.settings, group) if p.topic == topic]
                if sum(p.committed for p in lags) >= records and all(p.lag == 0 for p in lags):
                    return
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"{group} not past {records} records of {topic}: {lags}") from None


async def test_a_dead_letter_is_redriven_to_its_group_and_handled_once(ops_bench: OpsBench) -> None:
    bench = ops_bench
    group = f"{bench.settings.topic_namespace}tidemark.classifier.main"
    handled: list[int] = []
    broken = True

    async def on_rated(event: TicketRated, uow: UnitOfWork) -> None:
        if event.rating == 4 and broken:
            raise RuntimeError("this handler cannot cope with a 4 (yet)")
        handled.append(event.rating)

    poison = await bench.append("TID-41", 4)
    await bench.append("TID-41", 5)
    await bench.publish()
    consumer = EventConsumer(
        name=group,
        kafka=bench.settings.kafka_bootstrap,
        # as ServiceRuntime subscribes a group: its topics and its own redrive topics
        topics=[bench.topic, redrive_topic(bench.topic, group)],
        pool=bench.pool,
        registry=registry,
        handlers=HandlerRegistry({TicketRated: on_rated}),
        store=bench.store,
        dlq_producer=bench.producer,
    )
    bench.tasks.append(asyncio.create_task(consumer.run()))
    await caught_up(bench, group, bench.topic, 2)
    assert handled == [5]

    code, listed = await bench.ops("dlq", "list", "--service", "classifier")
    assert code == 0
    (row,) = [line for line in listed.splitlines() if line.startswith(dlq_topic(bench.topic))]
    assert row.split()[1] == "1" and poison in row and group in row, listed
    code, listed = await bench.ops("dlq", "list", "--service", "notifier")
    counts = {line.split()[0]: line.split()[1] for line in listed.splitlines()[2:]}
    assert counts[dlq_topic(bench.topic)] == "0", listed  # not the notifier's dead letter
    code, shown = await bench.ops("dlq", "show", dlq_topic(bench.topic))
    assert code == 0 and poison in shown and group in shown, shown
    assert "handler error: RuntimeError" in shown and "TID-41" in shown

    code, dry = await bench.ops("dlq", "redrive", dlq_topic(bench.topic), "--all", "--dry-run")
    assert code == 0 and "1 record(s) to redrive" in dry, dry
    assert await topic_records(bench, redrive_topic(bench.topic, group)) == []

    # Re-driven before the fix: it fails again and goes back to the topic's own DLQ (not to
    # a DLQ of the redrive topic), naming the redrive topic as its source.
    code, said = await bench.ops("dlq", "redrive", dlq_topic(bench.topic), "--all")
    assert code == 0 and "1 record(s) redriven" in said, said
    await caught_up(bench, group, redrive_topic(bench.topic, group), 1)
    dead = await topic_records(bench, dlq_topic(bench.topic))
    assert [d.header("ce_id") for d in dead] == [poison, poison]
    assert dead[1].header("dlq_source").startswith(redrive_topic(bench.topic, group) + "/")
    assert handled == [5]

    broken = False  # the handler is fixed
    # --all sends it once although it is on the DLQ twice; --id then sends it again.
    for argv in (["--all"], ["--id", poison]):
        code, said = await bench.ops("dlq", "redrive", dlq_topic(bench.topic), *argv)
        assert code == 0 and "1 record(s) redriven" in said, said
    redriven = await topic_records(bench, redrive_topic(bench.topic, group))
    assert [r.header("ce_id") for r in redriven] == [poison, poison, poison]
    assert redriven[0].header("redriven_from").startswith(dlq_topic(bench.topic) + "/")
    await caught_up(bench, group, redrive_topic(bench.topic, group), 3)

    assert handled == [5, 4]
    assert await bench.pool.fetchval(
        "SELECT count(*) FROM inbox WHERE consumer = $1", group
    ) == 2  # fmt: skip
    # Nothing was written to the service's topic, so no other group saw the record again.
    assert len(await topic_records(bench, bench.topic)) == 2
    assert len(await topic_records(bench, dlq_topic(bench.topic))) == 2


async def test_redrive_of_an_id_not_on_the_dlq_says_so(ops_bench: OpsBench) -> None:
    code, said = await ops_bench.ops("dlq", "redrive", dlq_topic(ops_bench.topic), "--id", "nope")
    assert code == 1 and "no dead letter with id nope" in said
