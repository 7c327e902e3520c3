"""`python -m tidekit.kafka.topics`: create every Tidemark topic and dead-letter topic up
front, with the partitions and replication factor production wants (the Helm chart's
pre-install/pre-upgrade hook Job runs it). Services only create missing topics with their
development defaults (replication factor 1), so in production the operator's run comes first.

It connects like a service, from the environment: TIDEMARK_KAFKA_BOOTSTRAP, and the admin
user's TLS/SASL settings as TIDEMARK_TOPICS_KAFKA_* (or the shared TIDEMARK_KAFKA_*).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tidekit.events.topics import TOPICS
from tidekit.kafka.acls import written_topics
from tidekit.kafka.clients import admin_client, ensure_topics
from tidekit.kafka.connection import KafkaConnection
from tidekit.settings import ServiceSettings

log = logging.getLogger(__name__)


class TopicAdminSettings(ServiceSettings):
    """The topic job's connection: a service's settings under the prefix TIDEMARK_TOPICS_."""

    model_config = SettingsConfigDict(env_prefix="TIDEMARK_TOPICS_", extra="ignore")
    service_name: ClassVar[str] = "topics"


def all_topics(namespace: str = "") -> list[str]:
    """Each service's topic and every dead-letter topic, sorted."""
    names = {namespace + topic for topic in TOPICS.values()}
    for service in TOPICS:
        names.update(written_topics(service, namespace))
    return sorted(names)


async def create_all(
    kafka: KafkaConnection, namespace: str, partitions: int, replication_factor: int
) -> list[str]:
    """Create what is missing; returns the topics still missing afterwards (none is fine)."""
    wanted = all_topics(namespace)
    await ensure_topics(kafka, wanted, partitions=partitions, replication_factor=replication_factor)
    admin = admin_client(kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [topic for topic in wanted if topic not in existing]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tidekit.kafka.topics",
        description="Create every Tidemark topic and DLQ that does not exist yet.",
    )
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--replication-factor", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = TopicAdminSettings()
    missing = asyncio.run(
        create_all(
            KafkaConnection.from_settings(settings),
            settings.topic_namespace,
            args.partitions,
            args.replication_factor,
        )
    )
    if missing:
        raise SystemExit(f"topics not created (no CREATE permission?): {', '.join(missing)}")
    print(f"{len(all_topics(settings.topic_namespace))} topics present")


if __name__ == "__main__":
    main()
