"""Producer and admin set-up shared by every service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


def idempotent_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence: a retried send is never written twice by the broker."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


async def ensure_topics(
    bootstrap: str, topics: Iterable[str], *, partitions: int = 3, timeout: float = 15.0
) -> None:
    """Create the topics that do not exist yet (replication factor 1 on a single node)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await asyncio.wait_for(admin.start(), timeout)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
                log.info("created topics", extra={"topics": missing})
            except TopicAlreadyExistsError:
                pass  # another service created it meanwhile
    finally:
        await admin.close()
