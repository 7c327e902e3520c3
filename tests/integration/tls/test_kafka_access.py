"""Kafka's secured listeners with the services' own users: ACLs decide, passwords and
client certificates authenticate, and a refused password never reaches a log."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from tidekit.events import TOPICS
from tidekit.kafka.clients import admin_client, ensure_topics, idempotent_producer

from .conftest import SecureKafka

pytestmark = pytest.mark.integration


async def test_a_service_user_may_not_write_another_services_topic(
    secure_kafka: SecureKafka,
) -> None:
    await ensure_topics(secure_kafka.admin, [TOPICS["classifier"], TOPICS["sla-timer"]])
    producer = idempotent_producer(secure_kafka.sasl("tidemark-classifier"), "acl-test")
    await producer.start()
    try:
        await producer.send_and_wait(TOPICS["classifier"], b"its own topic: allowed")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(TOPICS["sla-timer"], b"the sla-timer's topic")
    finally:
        await producer.stop()


async def test_a_wrong_password_is_refused_and_never_logged(
    secure_kafka: SecureKafka, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    producer = idempotent_producer(secure_kafka.sasl("tidemark-classifier", wrong), "pw-test")
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()
    assert "SaslAuthenticationFailed" in caplog.text  # refused by SCRAM, not unreachable
    assert wrong not in caplog.text


async def test_a_client_certificate_authenticates_as_its_common_name(
    secure_kafka: SecureKafka,
) -> None:
    topic = TOPICS["escalation"]
    await ensure_topics(secure_kafka.admin, [topic, TOPICS["intake"]])
    producer = idempotent_producer(secure_kafka.ssl("tidemark-escalation"), "cert-test")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"User:tidemark-escalation writes its own topic")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(TOPICS["intake"], b"but not intake's")
    finally:
        await producer.stop()

    without_certificate = admin_client(secure_kafka.ssl(None), request_timeout_ms=3000)
    try:
        with pytest.raises(KafkaConnectionError):  # the TLS handshake asks for one
            await without_certificate.start()
    finally:
        await without_certificate.close()
