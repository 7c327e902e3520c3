"""`dlq list`, `dlq show` and `dlq redrive`: the dead letters of the services' topics.

A consumer dead-letters a record of `<topic>` to `<topic>.dlq` with three headers:
dlq_reason, dlq_consumer (its group) and dlq_source (topic/partition/offset). Redrive hands
such a record back to that group alone, on `<topic>.redrive.<group>`, which only that group
reads (the runtime subscribes each group to its redrive topics): no other service's topic
is written and no other group sees the record again. The group's inbox makes a record
re-driven twice count once. Nothing is taken off the DLQ (a Kafka topic is append-only),
so a record whose republishing fails is still there for the next attempt; each re-driven
record carries `redriven_from` (DLQ topic/partition/offset) and `redriven_at` headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from aiokafka import AIOKafkaProducer

from tidekit.clock import wall_clock_now
from tidekit.events.topics import TOPICS, dlq_topic, origin_topic, redrive_topic
from tidekit.kafka.acls import READS
from tidekit.kafka.clients import ensure_topics
from tidekit.kafka.connection import KafkaConnection
from tidekit.ops.connect import OpsSettings, kafka_reader, kafka_writer
from tidekit.ops.records import Record, as_table, read_topic

DLQ_HEADERS = ("dlq_reason", "dlq_consumer", "dlq_source")


@dataclass(frozen=True)
class DeadLetter:
    record: Record

    @property
    def event_id(self) -> str:
        return self.record.header("ce_id")

    @property
    def consumer(self) -> str:
        return self.record.header("dlq_consumer")

    @property
    def source(self) -> str:
        return self.record.header("dlq_source")

    @property
    def source_topic(self) -> str:
        """The topic it was first published to (a redrive topic's failure names that one)."""
        source = self.source.rsplit("/", 2)[0] if self.source else ""
        return origin_topic(source or self.record.topic.removesuffix(".dlq"))

    def row(self) -> list[str]:
        r = self.record
        return [
            f"{r.partition}/{r.offset}",
            self.source,
            self.consumer,
            r.header("ce_type") or "?",
            r.header("ce_subject") or (r.key or b"").decode(errors="replace"),
            r.header("ce_time") or r.timestamp.isoformat(),
            self.event_id or "?",
            r.header("dlq_reason")[:80],
        ]


SHOW_HEADER = ("dlq offset", "source", "consumer", "type", "subject", "time", "id", "reason")


def dlq_name(settings: OpsSettings, topic: str) -> str:
    """Accept a DLQ's name, a topic's name or a service's name (in the namespace)."""
    if topic in TOPICS:
        topic = settings.topic(topic)
    return topic if topic.endswith(".dlq") else dlq_topic(topic)


async def read_dlq(settings: OpsSettings, topic: str) -> list[DeadLetter]:
    async with kafka_reader(settings) as consumer:
        return [DeadLetter(r) async for r in read_topic(consumer, topic)]


async def list_dlqs(settings: OpsSettings, out: TextIO, service: str | None = None) -> int:
    """Per DLQ: its count and oldest record. With `service`: the DLQs of the topics it reads,
    counting what its own groups dead-lettered."""
    if service is not None and service not in TOPICS:
        raise ValueError(f"unknown service {service!r} (one of {', '.join(TOPICS)})")
    upstreams = READS[service] if service else tuple(TOPICS)
    group_prefix = f"{settings.topic_namespace}tidemark.{service}." if service else ""
    rows = []
    async with kafka_reader(settings) as consumer:
        for upstream in upstreams:
            dlq = dlq_topic(settings.topic(upstream))
            letters = [
                d
                async for r in read_topic(consumer, dlq)
                if (d := DeadLetter(r)).consumer.startswith(group_prefix)
            ]
            oldest = min(letters, key=lambda d: d.record.timestamp, default=None)
            consumers = sorted({d.consumer for d in letters})
            rows.append([
                dlq,
                len(letters),
                oldest.record.timestamp.isoformat(timespec="seconds") if oldest else "-",
                f"{oldest.record.header('ce_type')} {oldest.event_id}" if oldest else "-",
                ", ".join(consumers) or "-",
            ])  # fmt: skip
    out.write(as_table(rows, ("dlq", "count", "oldest at", "oldest record", "consumers")) + "\n")
    return 0


async def show_dlq(settings: OpsSettings, topic: str, out: TextIO, limit: int = 50) -> int:
    letters = await read_dlq(settings, dlq_name(settings, topic))
    shown = letters[:limit]
    out.write(as_table([d.row() for d in shown], SHOW_HEADER) + "\n")
    if len(letters) > len(shown):
        out.write(f"({len(letters) - len(shown)} more; --limit to see them)\n")
    return 0


@dataclass(frozen=True)
class Redrive:
    letter: DeadLetter
    target: str  # <topic>.redrive.<group>


def plan_redrive(letters: Sequence[DeadLetter], event_id: str | None) -> list[Redrive]:
    """Which records go where: each to its failing group's redrive topic, once per (group,
    event id) even when it was dead-lettered several times (e.g. re-driven, failed again)."""
    seen: set[tuple[str, str]] = set()
    plan = []
    for letter in letters:
        if event_id is not None and letter.event_id != event_id:
            continue
        if not letter.consumer:
            continue  # not written by a Tidemark consumer: no group to hand it back to
        key = (letter.consumer, letter.event_id or f"{letter.record.offset}")
        if key in seen:
            continue
        seen.add(key)
        plan.append(Redrive(letter, redrive_topic(letter.source_topic, letter.consumer)))
    return plan


def redriven_headers(letter: DeadLetter, now: str) -> list[tuple[str, bytes]]:
    r = letter.record
    kept = [(k, v) for k, v in r.headers if k not in DLQ_HEADERS and not k.startswith("redriven_")]
    return [
        *kept,
        ("redriven_from", f"{r.topic}/{r.partition}/{r.offset}".encode()),
        ("redriven_at", now.encode()),
    ]


async def redrive(
    settings: OpsSettings,
    topic: str,
    out: TextIO,
    *,
    event_id: str | None,
    dry_run: bool = False,
) -> int:
    dlq = dlq_name(settings, topic)
    letters = await read_dlq(settings, dlq)
    plan = plan_redrive(letters, event_id)
    if event_id is not None and not plan:
        out.write(f"no dead letter with id {event_id} on {dlq}\n")
        return 1
    for item in plan:
        out.write(f"{'would redrive' if dry_run else 'redrive'} {item.letter.event_id} "
                  f"({item.letter.record.header('ce_type')}) -> {item.target}\n")  # fmt: skip
    if dry_run or not plan:
        out.write(f"{len(plan)} record(s) {'to redrive' if dry_run else 'redriven'}\n")
        return 0
    kafka = KafkaConnection.from_settings(settings)
    await ensure_topics(
        kafka, sorted({p.target for p in plan}), partitions=settings.topic_partitions
    )
    async with kafka_writer(settings) as producer:
        sent = await _send(producer, plan, out)
    out.write(f"{sent} record(s) redriven from {dlq}\n")
    return 0 if sent == len(plan) else 1


async def _send(producer: AIOKafkaProducer, plan: Sequence[Redrive], out: TextIO) -> int:
    """Send one by one and stop at the first failure, saying which are left: they are
    still on the DLQ, and running the command again sends them (the inbox drops repeats)."""
    now = wall_clock_now().isoformat()
    for n, item in enumerate(plan):
        r = item.letter.record
        try:
            await producer.send_and_wait(
                item.target, value=r.value, key=r.key, headers=redriven_headers(item.letter, now)
            )
        except Exception as exc:
            left = ", ".join(p.letter.event_id for p in plan[n:])
            out.write(f"could not republish to {item.target}: {exc}; still on the DLQ: {left}\n")
            return n
    return len(plan)
