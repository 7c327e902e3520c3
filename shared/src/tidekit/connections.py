"""The connections a service process holds: its pool (migrated), connections of their own,
its Kafka producer, and the checks its readiness probe runs on them.

`ServiceRuntime` (runtime.py) owns them and decides when to open them; here is how each is
opened and checked, retried while the dependency is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer

from tidekit.errors import TRANSIENT_ERRORS
from tidekit.kafka.clients import idempotent_producer
from tidekit.kafka.connection import KafkaConnection
from tidekit.settings import ServiceSettings
from tidekit.store.migrate import MigrationSet, apply_migrations
from tidekit.store.pool import create_pool

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_OR_BROKER_DOWN: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)


async def retry_until_up(what: str, connect: Callable[[], Awaitable[T]]) -> T:
    """`connect()` until it succeeds, backing off from 0.25 s to 5 s while `what` is away."""
    delay = 0.25
    while True:
        try:
            return await connect()
        except DB_OR_BROKER_DOWN as exc:
            log.warning(f"waiting for {what}", extra={"error": repr(exc), "retry_in": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def migrated_pool(s: ServiceSettings, migration_sets: Sequence[MigrationSet]) -> asyncpg.Pool:
    """The service's pool, once its schema has every migration."""
    pool = await create_pool(
        s.database_url,
        schema=s.db_schema,
        application_name=f"tidemark-{s.service_name}",
        min_size=s.db_pool_min,
        max_size=s.db_pool_max,
        timeout=5,
        command_timeout=30,
        statement_cache_size=s.db_statement_cache_size,
    )
    async with pool.acquire() as conn:
        applied = await apply_migrations(conn, s.db_schema, list(migration_sets))
    log.info("database ready", extra={"schema": s.db_schema, "migrations_applied": applied})
    return pool


async def dedicated_connection(s: ServiceSettings, role: str) -> asyncpg.Connection:
    """A connection of its own, outside the pool, for session state: one that LISTENs for
    good, the relay's lock. `role` names it in pg_stat_activity."""
    conn: asyncpg.Connection = await asyncpg.connect(
        s.database_url,
        timeout=5,
        server_settings={
            "search_path": s.db_schema,
            "application_name": f"tidemark-{s.service_name}-{role}",
        },
    )
    return conn


async def started_producer(kafka: KafkaConnection, service_name: str) -> AIOKafkaProducer:
    """The service's idempotent producer, started; stopped again when it cannot start."""
    producer = idempotent_producer(kafka, f"tidemark-{service_name}")
    try:
        await producer.start()
    except BaseException:
        await producer.stop()
        raise
    return producer


async def database_ok(pool: asyncpg.Pool | None) -> bool:
    if pool is None:
        return False
    try:
        async with asyncio.timeout(2):
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        return True
    except DB_OR_BROKER_DOWN:
        await pool.expire_connections()  # reconnect all of them once it is back
        return False


async def kafka_ok(producer: AIOKafkaProducer | None) -> bool:
    if producer is None:
        return False
    try:
        async with asyncio.timeout(2):
            await producer.client.fetch_all_metadata()
        return True
    except Exception:
        return False
