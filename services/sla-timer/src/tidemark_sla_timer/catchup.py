"""Has our consumer group handled everything upstream wrote before we started?"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.kafka.clients import admin_client
from tidekit.kafka.connection import KafkaConnection


async def wait_until_caught_up(
    kafka: KafkaConnection, group: str, topics: Sequence[str], poll_seconds: float = 0.25
) -> None:
    """Return once `group`'s committed offsets reach the topics' end offsets as they were
    when called (records written later are not waited for). Retries while Kafka is away."""
    while True:
        try:
            await _wait(kafka, group, topics, poll_seconds)
            return
        except TRANSIENT_ERRORS:
            await asyncio.sleep(1.0)


async def _wait(kafka: KafkaConnection, group: str, topics: Sequence[str], poll: float) -> None:
    admin = admin_client(kafka)
    reader = AIOKafkaConsumer(
        **kafka.client_kwargs(), group_id=None, client_id=f"catch-up-{uuid.uuid4().hex[:6]}"
    )
    await admin.start()
    try:
        await reader.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [t for t in topics if t in existing]
            described = await admin.describe_topics(wanted) if wanted else []
            partitions = [
                TopicPartition(d["topic"], p["partition"])
                for d in described
                for p in d["partitions"]
            ]
            if not partitions:
                return
            ends = await reader.end_offsets(partitions)
        finally:
            await reader.stop()
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = [
                tp
                for tp, end in ends.items()
                if end > 0 and (tp not in committed or committed[tp].offset < end)
            ]
            if not behind:
                return
            await asyncio.sleep(poll)
    finally:
        await admin.close()
