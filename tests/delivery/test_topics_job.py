"""`python -m tidekit.kafka.topics`, what the chart's hook Job runs: every topic and DLQ,
with the partitions asked for, against the test Kafka; a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tidekit.kafka.topics import all_topics

pytestmark = pytest.mark.integration


def _run(bootstrap: str, namespace: str, partitions: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIDEMARK_KAFKA_BOOTSTRAP": bootstrap,
           "TIDEMARK_TOPIC_NAMESPACE": namespace}  # fmt: skip
    command = [sys.executable, "-m", "tidekit.kafka.topics",
               "--partitions", str(partitions), "--replication-factor", "1"]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_all_topics_are_each_services_topic_and_every_dlq() -> None:
    topics = all_topics("prod.")
    assert len(topics) == 10 and "prod.tidemark.sla.v1.dlq" in topics
    assert all(t.startswith("prod.tidemark.") for t in topics)


async def test_the_topic_job_creates_every_topic_with_the_partitions_asked(
    kafka_bootstrap: str,
) -> None:
    namespace = f"t{uuid.uuid4().hex[:8]}."
    first = _run(kafka_bootstrap, namespace, partitions=4)
    assert first.returncode == 0, first.stderr
    again = _run(kafka_bootstrap, namespace, partitions=4)  # existing topics: nothing to do
    assert again.returncode == 0 and "10 topics present" in again.stdout, again.stderr
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(all_topics(namespace))
    finally:
        await admin.close()
    partitions = {d["topic"]: len(d["partitions"]) for d in described}
    assert partitions == dict.fromkeys(all_topics(namespace), 4)
