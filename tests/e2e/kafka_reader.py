"""Reads whole topics from the real broker, for assertions about what was published."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition


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
        partitions = [
            TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())
        ]
        if not partitions:
            await consumer.client.force_metadata_update()
            partitions = [
                TopicPartition(t, p)
                for t in topics
                for p in (consumer.partitions_for_topic(t) or ())
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: list[SeenRecord] = []
        while any(await consumer.position(tp) < ends[tp] for tp in partitions):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    seen.append(SeenRecord(r.topic, headers, r.value or b""))
        return seen
    finally:
        await consumer.stop()


def read_topics(bootstrap: str, topics: list[str]) -> list[SeenRecord]:
    return asyncio.run(_read_all(bootstrap, topics))


def for_ticket(records: list[SeenRecord], tid: str) -> list[SeenRecord]:
    return [r for r in records if r.headers.get("ce_subject") == tid]
