"""examples/sla_attainment.py: SLA attainment per level for a month, from the sla topic alone,
against hand-computed figures (the definition is in docs/sla.md, "SLA attainment")."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import sys
import uuid
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.events.sla import ClockMet, ClockPaused, ClockStarted, SlaBreached, TargetChanged
from tidekit.kafka.clients import ensure_topics

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).parents[2] / "examples" / "sla_attainment.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sla_attainment", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def started(tid: str, n: int, deadline: datetime, level: str = "commercial",
            kind: str = "first_response") -> ClockStarted:  # fmt: skip
    return ClockStarted(
        tid=tid, obligation_id=f"{tid}/{n}", kind=kind, level=level, severity=None,
        started_at=at(1), deadline=deadline, warning_at=deadline, target_seconds=86400,
        calendar="business_days", policy_version="2026.1",
    )  # fmt: skip


def met(tid: str, n: int, when: datetime, deadline: datetime) -> ClockMet:
    return ClockMet(tid=tid, obligation_id=f"{tid}/{n}", met_at=when, deadline=deadline,
                    elapsed_seconds=3600, policy_version="2026.1")  # fmt: skip


def history() -> list[DomainEvent]:
    """Nine obligations, one per ticket; comments give the verdict for November 2026."""
    return [
        started("TID-1", 1, at(10)), met("TID-1", 1, at(9), at(10)),  # met in time
        started("TID-2", 1, at(12)),
        SlaBreached(tid="TID-2", obligation_id="TID-2/1", kind="first_response",
                    level="commercial", severity=None, deadline=at(12), emitted_at=at(12),
                    lateness_seconds=0, policy_version="2026.1"),
        met("TID-2", 1, at(13), at(12)),  # late reply: breached
        started("TID-3", 1, at(20)),  # never answered, deadline passed: breached
        started("TID-4", 2, at(25), kind="next_response"), met("TID-4", 2, at(24), at(25)),
        started("TID-5", 1, at(2, month=12), level="vip_request"),  # due in December
        started("TID-6", 1, at(28), level="non_commercial"),
        ClockPaused(tid="TID-6", obligation_id="TID-6/1", paused_at=at(2), elapsed_seconds=60),
        started("TID-7", 1, at(15)),
        TargetChanged(tid="TID-7", obligation_id="TID-7/1", level="partner", severity=None,
                      old_deadline=at(15), new_deadline=at(18), old_target_seconds=86400,
                      new_target_seconds=172800, policy_version="2026.1", changed_at=at(2)),
        met("TID-7", 1, at(17), at(18)),  # reclassified to partner, met in time
        started("TID-9", 1, at(30)),  # running on the 29th, breached by December
    ]  # fmt: skip


def as_pairs(events: list[DomainEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, e.model_dump(mode="json")) for e in events]


def test_attainment_by_hand() -> None:
    ex = example()
    start, end = ex.month_bounds("2026-11")
    obligations = ex.fold(as_pairs(history()))
    after = ex.attainment(obligations, start, end, now=at(5, month=12)).as_json()
    assert after == {
        "commercial": {
            "first_response": {"met": 1, "breached": 3, "running": 0, "attainment": 0.25},
            "next_response": {"met": 1, "breached": 0, "running": 0, "attainment": 1.0},
        },
        "partner": {"first_response": {"met": 1, "breached": 0, "running": 0, "attainment": 1.0}},
    }
    during = ex.attainment(obligations, start, end, now=at(29)).as_json()
    assert during["commercial"]["first_response"] == {
        "met": 1, "breached": 2, "running": 1, "attainment": 0.3333,
    }  # fmt: skip


async def publish(bootstrap: str, topic: str, events: list[DomainEvent]) -> None:
    await ensure_topics(bootstrap, [topic], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        first_met: tuple[bytes, bytes, list[tuple[str, bytes]]] | None = None
        for event in events:
            key, value, headers = Envelope.wrap(event, source="tidemark/sla-timer").to_kafka()
            await producer.send_and_wait(topic, value, key=key, headers=headers)
            if first_met is None and event.event_type == "sla.clock_met":
                first_met = (key, value, headers)
        assert first_met is not None
        key, value, headers = first_met  # redelivered: the same ce_id again
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def test_the_example_reads_the_topic_and_counts_each_event_once(kafka_bootstrap: str) -> None:
    topic = f"attainment-{uuid.uuid4().hex[:8]}.tidemark.sla.v1"
    asyncio.run(publish(kafka_bootstrap, topic, history()))
    out = io.StringIO()
    with redirect_stdout(out):
        code = example().main(
            ["--bootstrap", kafka_bootstrap, "--topic", topic, "--month", "2026-11",
             "--as-of", "2026-12-05T12:00:00Z"]
        )  # fmt: skip
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["commercial"]["first_response"]["attainment"] == 0.25
    assert report["commercial"]["first_response"]["met"] == 1  # the repeat counted once
    assert report["partner"]["first_response"]["met"] == 1
    assert "vip_request" not in report and "non_commercial" not in report
