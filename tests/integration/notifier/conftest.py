"""One notifier process for these tests, with its own database, consumer group, topic
namespace, SMTP sink (scripted refusals) and webhook receiver: it sees only the events these
tests publish, and no other notifier of the session shares its work."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.backends import create_fresh_database, drop_database
from tests.fixtures.system import System, wait_ready
from tidekit.events import TOPICS
from tidekit.kafka.clients import ensure_topics, idempotent_producer
from tidemark_devstack.common import free_port
from tidemark_devstack.services import ServiceProcess
from tidemark_devstack.smtp_sink import SmtpSink

from .harness import Publisher, Receiver, start_receiver

CHAT_SECRET = "chat-hook-secret-1b7e"
ALERT_SECRET = "alert-hook-secret-93c2"
NAMESPACE = f"tn{uuid.uuid4().hex[:8]}."
GIVE_UP_SECONDS = 10.0  # from the first failure; batches behind a backlog can take seconds


@dataclass
class Notifier:
    url: str
    process: ServiceProcess
    sink: SmtpSink
    receiver: Receiver
    staff_key: str  # an agent's: reading notifications takes a staff key
    gateway_key: str  # the mail gateway's (email channel): it posts bounces
    group: str  # its consumer group: how far it has got (tests.fixtures.kafka_progress)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)


@pytest.fixture(scope="package")
def own_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    sink = SmtpSink(Path(tmp_path_factory.mktemp("notifier-mail")), free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="package")
def receiver() -> Iterator[Receiver]:
    rec, server = start_receiver()
    yield rec
    server.shutdown()


@pytest.fixture(scope="package")
def notifier_db(_postgres: tuple[str, object]) -> Iterator[str]:
    admin_url, _ = _postgres
    url = create_fresh_database(admin_url, prefix="tidemark_notifier_test")
    yield url
    drop_database(admin_url, url)


@pytest.fixture(scope="package")
def notifier(
    service_launcher: object,
    notifier_db: str,
    own_sink: SmtpSink,
    receiver: Receiver,
    system: System,
) -> Iterator[Notifier]:
    suffix = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        "TIDEMARK_DATABASE_URL": notifier_db,
        "TIDEMARK_NOTIFIER_CONSUMER_GROUP_SUFFIX": suffix,
        "TIDEMARK_NOTIFIER_TOPIC_NAMESPACE": NAMESPACE,
        "TIDEMARK_NOTIFIER_SMTP_PORT": str(own_sink.port),
        "TIDEMARK_NOTIFIER_CHANNEL_WEBHOOKS": json.dumps(
            {"chat": {"url": receiver.url("/chat"), "secret": CHAT_SECRET, "also_email": True}}
        ),
        "TIDEMARK_NOTIFIER_ALERT_WEBHOOKS": json.dumps(
            {"tier2": {"url": receiver.url("/alerts/tier2"), "secret": ALERT_SECRET}}
        ),
        "TIDEMARK_NOTIFIER_QUEUE_EMAILS": json.dumps(
            {"tier1": "tier1@desk.example", "tier2": "tier2@desk.example"}
        ),
        "TIDEMARK_NOTIFIER_CUSTOMER_TIME_ZONES": json.dumps({"example.de": "Europe/Berlin"}),
        "TIDEMARK_NOTIFIER_RETRY_INITIAL_SECONDS": "0.2",
        "TIDEMARK_NOTIFIER_RETRY_MAX_SECONDS": "0.8",
        "TIDEMARK_NOTIFIER_GIVE_UP_AFTER_SECONDS": str(GIVE_UP_SECONDS),
        "TIDEMARK_NOTIFIER_WEBHOOK_TIMEOUT_SECONDS": "1",
        "TIDEMARK_INTAKE_URL": system.urls["intake"],  # it checks API keys there
    }
    proc = service_launcher("notifier", extra_env=env, wait=True)  # type: ignore[operator]
    wait_ready(proc.url)
    group = f"{NAMESPACE}tidemark.notifier.{suffix}"  # as tidekit.runtime names it
    keys = system.keys
    yield Notifier(proc.url, proc, own_sink, receiver, keys.agent, keys.mail_gateway, group)
    proc.kill()


@pytest.fixture(scope="package")
async def publisher(kafka_bootstrap: str) -> AsyncIterator[Publisher]:
    await ensure_topics(kafka_bootstrap, [topic(s) for s in TOPICS], partitions=3)
    producer = idempotent_producer(kafka_bootstrap, "notifier-tests")
    await producer.start()
    yield Publisher(producer, NAMESPACE)
    await producer.stop()


def topic(service: str) -> str:
    """`service`'s topic as this notifier reads it."""
    return NAMESPACE + TOPICS[service]


def new_tid() -> str:
    return f"TID-{uuid.uuid4().int % 10**9 + 9 * 10**9}"
