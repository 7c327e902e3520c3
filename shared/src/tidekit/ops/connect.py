"""The operator tool's settings and connections: the services' settings, refusing clearly.

Every command connects through here, so a Kafka or Postgres that cannot be reached ends
the command with one line naming what and where (exit 2), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import Field

from tidekit.events.topics import TOPICS
from tidekit.kafka.clients import admin_client, idempotent_producer
from tidekit.kafka.connection import KafkaConnection
from tidekit.settings import Duration, ServiceSettings

CONNECT_TIMEOUT = 10.0


class OpsSettings(ServiceSettings):
    """TIDEMARK_DATABASE_URL, TIDEMARK_KAFKA_BOOTSTRAP (and its TLS/SASL settings),
    TIDEMARK_TOPIC_NAMESPACE: the same variables the services read."""

    service_name: ClassVar[str] = "ops"
    # intake's setting, read here for `retention` (TIDEMARK_IDEMPOTENCY_KEY_RETENTION)
    idempotency_key_retention: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))

    def service_topics(self) -> dict[str, str]:
        """Service -> its topic in this system's namespace."""
        return {service: self.topic(service) for service in TOPICS}


class Unreachable(Exception):
    """Kafka or Postgres cannot be reached; the message is the one line the operator sees."""


def schema_of(service: str) -> str:
    """The Postgres schema a service keeps its event store in (ServiceSettings.db_schema)."""
    if service not in TOPICS:
        raise ValueError(f"unknown service {service!r} (one of {', '.join(TOPICS)})")
    return service.replace("-", "_")


@contextlib.asynccontextmanager
async def database(settings: OpsSettings) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        where = settings.database_url.rsplit("@", 1)[-1]  # never the password
        raise Unreachable(f"cannot reach Postgres at {where}: {exc or type(exc).__name__}") from exc
    try:
        yield conn
    finally:
        await conn.close()


# the three kinds of Kafka client the tool opens
_Client = TypeVar("_Client", AIOKafkaConsumer, AIOKafkaProducer, AIOKafkaAdminClient)


async def _stop(client: AIOKafkaConsumer | AIOKafkaProducer | AIOKafkaAdminClient) -> None:
    await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())


@contextlib.asynccontextmanager
async def _running(client: _Client, kafka: KafkaConnection) -> AsyncIterator[_Client]:
    """The client started, and stopped on the way out; a Kafka that does not answer in
    CONNECT_TIMEOUT is Unreachable, naming where."""
    try:
        await asyncio.wait_for(client.start(), CONNECT_TIMEOUT)
    except Exception as exc:
        with contextlib.suppress(Exception):
            await _stop(client)
        reason = str(exc) or type(exc).__name__
        raise Unreachable(f"cannot reach Kafka at {kafka.bootstrap}: {reason}") from exc
    try:
        yield client
    finally:
        await _stop(client)


@contextlib.asynccontextmanager
async def kafka_reader(settings: OpsSettings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer without a group: it is assigned partitions and never commits offsets."""
    kafka = KafkaConnection.from_settings(settings)
    consumer = AIOKafkaConsumer(
        **kafka.client_kwargs(),
        group_id=None,
        client_id="tidemark-ops",
        enable_auto_commit=False,
        isolation_level="read_committed",
        request_timeout_ms=int(CONNECT_TIMEOUT * 1000),
    )
    async with _running(consumer, kafka) as running:
        yield running


@contextlib.asynccontextmanager
async def kafka_writer(settings: OpsSettings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = KafkaConnection.from_settings(settings)
    async with _running(idempotent_producer(kafka, "tidemark-ops"), kafka) as producer:
        yield producer


@contextlib.asynccontextmanager
async def kafka_admin(settings: OpsSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    kafka = KafkaConnection.from_settings(settings)
    admin = admin_client(kafka, request_timeout_ms=int(CONNECT_TIMEOUT * 1000))
    async with _running(admin, kafka) as running:
        yield running
