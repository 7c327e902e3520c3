"""Reads whole topics from the real broker, for assertions about what was published."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class SeenRecord:
    topic: str
    headers: dict[str, str]
    value: bytes

    @property
    def type(self) -> str:
        return self.headers["ce_type"]

    @property
    def id(self) -> str:
        return self.headers["ce_id"]


async def _read_all(bootstrap: str, topics: list[str]) -> list[SeenRecord]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, client_id=f"reader-{uuid.uuid4().hex[:6]}"
    )
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap, topics)
        if not partitions:
            return []  # the topics do not exist yet
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: list[SeenRecord] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    seen.append(SeenRecord(r.topic, headers, r.value or b""))
        return seen
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """The topics' partitions, asked of the broker now (a consumer's metadata may be stale)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t in existing]
        described = await admin.describe_topics(wanted) if wanted else []
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]


def read_topics(bootstrap: str, topics: list[str]) -> list[SeenRecord]:
    return asyncio.run(_read_all(bootstrap, topics))


def trace_id(record: SeenRecord) -> str:
    """The trace id of the record's W3C traceparent (`00-<trace id>-<parent id>-<flags>`)."""
    version, trace, parent, _flags = record.headers["traceparent"].split("-")
    assert version == "00" and len(trace) == 32 and len(parent) == 16, record.headers
    return trace


def for_ticket(records: list[SeenRecord], tid: str) -> list[SeenRecord]:
    return [r for r in records if r.headers.get("ce_subject") == tid]


def all_topics(bootstrap: str) -> list[str]:
    """Every topic on the broker but Kafka's own internal ones (`__…`)."""

    async def names() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return sorted(t for t in await admin.list_topics() if not t.startswith("__"))
        finally:
            await admin.close()

    return asyncio.run(names())
