"""The real infrastructure the suite runs on: Kafka, PostgreSQL, the SMTP sink."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email.message import EmailMessage

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.fixtures.backends import PostgresControl, drop_database, with_database
from tidemark_devstack.postgres import create_database
from tidemark_devstack.smtp_sink import SmtpSink

pytestmark = pytest.mark.integration


async def test_kafka_round_trip_with_headers(kafka_bootstrap: str) -> None:
    topic = f"devstack.smoke.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(
                topic,
                value=f"value-{i}".encode(),
                key=b"ticket-1",
                headers=[("ce_type", b"ticket.submitted"), ("ce_id", str(i).encode())],
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"smoke-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        records = []
        while len(records) < 3:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            records += [r for part in batch.values() for r in part]
        await consumer.commit()
    finally:
        await consumer.stop()

    assert [r.value for r in records] == [b"value-0", b"value-1", b"value-2"]  # one key: order
    assert {r.partition for r in records} == {records[0].partition}
    assert dict(records[1].headers) == {"ce_type": b"ticket.submitted", "ce_id": b"1"}


async def test_postgres_runs_sql(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS smoke (id bigserial PRIMARY KEY, v jsonb)")
        await conn.execute("INSERT INTO smoke (v) VALUES ($1::jsonb)", '{"a": 1}')
        assert await conn.fetchval("SELECT v->>'a' FROM smoke ORDER BY id DESC LIMIT 1") == "1"
        assert (await conn.fetchval("SHOW server_version_num")).isdigit()
    finally:
        await conn.close()


def test_mail_reaches_the_sink(smtp_sink: SmtpSink) -> None:
    tag = uuid.uuid4().hex[:8]
    message = EmailMessage()
    message["From"] = "desk@tidemark.test"
    message["To"] = "customer@example.com"
    message["Subject"] = f"[TID-{tag}] Ihre Anfrage für Müller: received"
    message.set_content("Hello,\nwe got it.\n")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.send_message(message)

    got = smtp_sink.wait_for(lambda m: tag in str(m["Subject"]), timeout=10)
    assert got["Subject"] == f"[TID-{tag}] Ihre Anfrage für Müller: received"
    assert got["X-Sink-Rcpt-To"] == "customer@example.com"
    body = got.get_body(("plain",))
    assert body is not None and "we got it." in body.get_content()
    assert any(tag in str(m["Subject"]) for m in smtp_sink.messages())


def test_wait_for_times_out_clearly(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError, match="no matching mail"):
        smtp_sink.wait_for(lambda m: False, timeout=0.3)


async def test_postgres_stop_start_and_reconnect(
    database_url: str, postgres_control: PostgresControl
) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("CREATE TABLE IF NOT EXISTS survives (n int)")
    await conn.execute("INSERT INTO survives VALUES (42)")
    await conn.close()

    postgres_control.stop()
    assert not postgres_control.running
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(database_url, timeout=3)
    postgres_control.start()

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT n FROM survives") == 42
    finally:
        await conn.close()


async def test_a_recreated_database_is_empty_even_with_a_session_open_on_it(
    database_url: str,
) -> None:
    admin_url = with_database(database_url, "postgres")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    await create_database(admin_url, name, fresh=True)
    url = with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE left_by_an_earlier_run (n int)")
        await create_database(admin_url, name, fresh=True)  # `conn` still open on it
    finally:
        await conn.close()
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('left_by_an_earlier_run')") is None
    finally:
        await conn.close()
    drop_database(admin_url, url)
