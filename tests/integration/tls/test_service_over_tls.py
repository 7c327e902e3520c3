"""A service run as in production: Kafka through SASL_SSL as its own SCRAM user, its
database through TLS with verify-full. It reads a submission from intake's topic and
publishes its classification on its own; the password shows in none of its log lines."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from tests.fixtures.backends import create_fresh_database, drop_database
from tests.fixtures.system import wait_ready
from tidekit.events import TOPICS
from tidekit.events.envelope import Envelope, MalformedRecord
from tidekit.events.intake import Requester, TicketSubmitted
from tidekit.kafka.clients import ensure_topics, idempotent_producer
from tidemark_devstack.postgres import PostgresServer
from tidemark_devstack.services import ServiceProcess

from .conftest import SecureKafka, service_process

pytestmark = pytest.mark.integration
USER = "tidemark-classifier"


@pytest.fixture
async def classifier(
    secure_kafka: SecureKafka, tls_postgres: PostgresServer
) -> AsyncIterator[ServiceProcess]:
    # intake's topic exists (intake, or the operator, made it); the classifier makes its own
    await ensure_topics(secure_kafka.admin, [TOPICS["intake"]])
    database = create_fresh_database(tls_postgres.url("postgres"), "tidemark_tls")
    name = database.rsplit("/", 1)[1]
    env = {
        "TIDEMARK_INTAKE_URL": "http://127.0.0.1:9",  # no staff route is called here
        "TIDEMARK_DATABASE_URL": tls_postgres.url(name, verify=True),
        "TIDEMARK_KAFKA_BOOTSTRAP": secure_kafka.listeners.sasl_bootstrap,
        "TIDEMARK_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "TIDEMARK_KAFKA_SSL_CAFILE": str(secure_kafka.listeners.ca_file),
        # the system's variables above, the service's own user below
        "TIDEMARK_CLASSIFIER_KAFKA_SASL_USERNAME": USER,
        "TIDEMARK_CLASSIFIER_KAFKA_SASL_PASSWORD": secure_kafka.passwords[USER],
    }
    proc = service_process("classifier", env)
    try:
        yield proc
    finally:
        await asyncio.to_thread(proc.terminate)
        drop_database(tls_postgres.url("postgres"), database)


async def test_a_service_reads_and_publishes_through_sasl_ssl_as_its_own_user(
    secure_kafka: SecureKafka, classifier: ServiceProcess
) -> None:
    await asyncio.to_thread(wait_ready, classifier.url, 60.0)
    async with httpx.AsyncClient(timeout=5) as http:
        ready = (await http.get(f"{classifier.url}/readyz")).json()
    assert ready["checks"] == {"database": True, "kafka": True}, ready

    submitted = Envelope.wrap(_submission(), source="tidemark/intake")
    key, value, headers = submitted.to_kafka()
    producer = idempotent_producer(secure_kafka.admin, "tls-test-intake")
    await producer.start()
    try:
        await producer.send_and_wait(TOPICS["intake"], value, key=key, headers=headers)
    finally:
        await producer.stop()

    published = await _wait_for_event(secure_kafka, TOPICS["classifier"], submitted.subject)
    assert published.type == "ticket.classified"
    assert published.causation_id == submitted.id

    # The Kafka password shows nowhere the service writes: its event, /metrics, its log.
    password = secure_kafka.passwords[USER]
    assert password not in json.dumps(published.data) and password not in str(published.trace)
    async with httpx.AsyncClient(timeout=5) as http:
        assert password not in (await http.get(f"{classifier.url}/metrics")).text
    classifier.terminate()
    log = classifier.log_file.read_text()
    assert '"msg": "service running"' in log, log[-2000:]
    assert password not in log


def _submission() -> TicketSubmitted:
    return TicketSubmitted(
        tid=f"TID-{time.time_ns() % 10**12}",
        channel="web",
        requester=Requester(email="ada@example.com", name="Ada"),
        subject="The checkout page is down",
        body="Nobody can pay since this morning.",
        submitted_at=datetime.now(UTC),
    )


async def _wait_for_event(
    secure_kafka: SecureKafka, topic: str, subject: str, timeout: float = 45.0
) -> Envelope:
    """The first event about `subject` on `topic`, read as the admin."""
    reader = AIOKafkaConsumer(
        topic, **secure_kafka.admin.client_kwargs(), group_id=None, auto_offset_reset="earliest"
    )
    await reader.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=500)
            for record in (r for records in batches.values() for r in records):
                try:
                    envelope = Envelope.from_kafka(record.value, record.headers)
                except MalformedRecord:  # the access tests here write bare bytes
                    continue
                if envelope.subject == subject:
                    return envelope
        raise AssertionError(f"no event about {subject} on {topic} within {timeout}s")
    finally:
        await reader.stop()
