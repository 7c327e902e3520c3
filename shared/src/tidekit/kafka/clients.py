"""Producer and admin set-up shared by every service (connections from KafkaConnection)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError, for_code

from tidekit.kafka.connection import KafkaConnection

log = logging.getLogger(__name__)


def idempotent_producer(kafka: KafkaConnection | str, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence: a retried send is never written twice by the broker."""
    return AIOKafkaProducer(
        **KafkaConnection.of(kafka).client_kwargs(),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        # A batch per partition up to 256 KiB (aiokafka's default 16 KiB holds about a
        # dozen of our records, headers included): a relay batch of 500 rows goes in a few
        # produce requests instead of dozens, each one costing its own writes and futures.
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def admin_client(kafka: KafkaConnection | str, request_timeout_ms: int = 10_000
                 ) -> AIOKafkaAdminClient:  # fmt: skip
    return AIOKafkaAdminClient(
        **KafkaConnection.of(kafka).client_kwargs(), request_timeout_ms=request_timeout_ms
    )


async def ensure_topics(
    kafka: KafkaConnection | str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
    timeout: float = 15.0,
) -> None:
    """Create the topics that do not exist yet (replication factor 1 on a single node; the
    operator's topic job, `python -m tidekit.kafka.topics`, asks for more).

    With ACLs a service may create only the topics it writes; one it may not create (a
    topic it reads: its owner or the operator creates it) is logged and left alone."""
    admin = admin_client(kafka)
    await asyncio.wait_for(admin.start(), timeout)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
                for t in missing
            ]
        )
        created, refused = [], []
        for topic, code, *message in response.topic_errors:
            error = for_code(code) if code else None
            if error is None:
                created.append(topic)
            elif error is TopicAuthorizationFailedError:
                refused.append(topic)
            elif error is not TopicAlreadyExistsError:  # another service created it meanwhile
                raise error(f"creating topic {topic}: {message[0] if message else ''}")
        if created:
            log.info("created topics", extra={"topics": created})
        if refused:
            log.info("topics left to their owners (no CREATE here)", extra={"topics": refused})
    finally:
        await admin.close()
