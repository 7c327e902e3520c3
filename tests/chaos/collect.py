"""Gathering the facts the checks judge: from Postgres, Kafka and the SMTP sink only.

Also the two measurements made while the system runs: how long each consumer group takes
to handle what was published before the last fault, and whether each read model equals a
rebuild from the events (`tidemark-ops rebuild`, run with the services stopped)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.e2e.kafka_reader import read_topics
from tests.fixtures.kafka_progress import end_offsets, until_committed
from tidekit.events import TOPICS
from tidekit.ops.connect import OpsSettings, schema_of
from tidekit.ops.rebuild import read_models, rebuild_service

from .checks import Breach, Obligation

SKIPPED = "skipped: `tidemark-ops rebuild` has no read model for it here"


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sink_mails(mail_dir: Path) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """(acknowledgements, breach mails): TID -> Message-ID -> copies, headers only."""
    acks: dict[str, Counter[str]] = {}
    breaches: dict[str, Counter[str]] = {}
    parser = BytesHeaderParser(policy=default)
    for path in (mail_dir / "new").glob("*.eml"):
        headers = parser.parsebytes(path.read_bytes())
        subject, tid = str(headers["Subject"] or ""), str(headers["X-Tidemark-TID"] or "")
        into = acks if "We received your request" in subject else (
            breaches if "SLA BREACHED" in subject else None)  # fmt: skip
        if into is not None and tid:
            into.setdefault(tid, Counter())[str(headers["Message-ID"]).strip()] += 1
    return acks, breaches


KafkaFacts = tuple[dict[str, Obligation], dict[str, list[Breach]], dict[str, datetime]]


def kafka_facts(bootstrap: str) -> KafkaFacts:
    """(obligations as sla.v1 announced them, the sla.breached records of each obligation,
    TID -> first public staff reply on intake.v1). One ticket's records share a partition,
    in order."""
    obligations: dict[str, Obligation] = {}
    breached: dict[str, list[Breach]] = {}
    replied: dict[str, datetime] = {}
    for record in read_topics(bootstrap, [TOPICS["intake"], TOPICS["sla-timer"]]):
        data = json.loads(record.value)
        kind = record.type
        if kind == "ticket.staff_replied" and data.get("visibility", "public") == "public":
            at = _instant(data["replied_at"])
            replied[data["tid"]] = min(replied.get(data["tid"], at), at)
        if not kind.startswith("sla."):
            continue
        ob = obligations.get(data["obligation_id"])
        if kind == "sla.clock_started":
            obligations[data["obligation_id"]] = Obligation(
                data["tid"], data["kind"], _instant(data["deadline"])
            )
        elif ob is not None and kind == "sla.clock_paused":
            ob.paused, ob.paused_at = True, _instant(data["paused_at"])
        elif ob is not None and kind == "sla.clock_resumed":
            ob.paused, ob.paused_at, ob.deadline = False, None, _instant(data["deadline"])
        elif ob is not None and kind == "sla.target_changed" and data.get("new_deadline"):
            ob.deadline = _instant(data["new_deadline"])
        elif kind == "sla.breached":
            breach = Breach(record.id, _instant(data["emitted_at"]))
            breached.setdefault(data["obligation_id"], []).append(breach)
    return obligations, breached, replied


async def intake_rows(database_url: str) -> tuple[int, dict[str, str | None]]:
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM intake.tickets")
        rows = await conn.fetch("SELECT key, tid FROM intake.idempotency_keys")
        return int(count), {r["key"]: r["tid"] for r in rows}
    finally:
        await conn.close()


async def dlq_records(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        dlqs = [t for t in await admin.list_topics() if t.endswith(".dlq")]
    finally:
        await admin.close()
    ends = await end_offsets(bootstrap, dlqs)
    return {t: sum(n for tp, n in ends.items() if tp.topic == t) for t in dlqs}


async def group_targets(
    bootstrap: str, limit: float
) -> dict[str, dict[TopicPartition, int] | None]:
    """Each tidemark consumer group -> the end offsets, now, of the partitions it reads.
    Right after Kafka restarts its coordinators are still loading and list few or no
    groups: asked again until every service's group is listed (or `limit` s passed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    deadline = time.monotonic() + limit
    try:
        while True:
            try:
                listed = await admin.list_consumer_groups()
                groups = [str(g[0]) for g in listed if str(g[0]).startswith("tidemark.")]
                topics = {g: {tp.topic for tp in await admin.list_consumer_group_offsets(g)}
                          for g in groups}  # fmt: skip
            except KafkaError:
                groups, topics = [], {}
            services = {g.split(".")[1] for g in groups if topics.get(g)}
            if services >= set(TOPICS) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await admin.close()
    out: dict[str, dict[TopicPartition, int] | None] = {}
    for group, read in topics.items():
        out[group] = None  # end offsets not to be had within `limit`: reported, not a crash
        while time.monotonic() <= deadline:
            try:
                out[group] = await end_offsets(bootstrap, sorted(read))
                break
            except KafkaError:  # e.g. a partition whose leader is still being elected
                await asyncio.sleep(1)
    return out


async def lag_recovery(bootstrap: str, limit: float = 60.0) -> dict[str, float | None]:
    """Seconds each group takes to handle every record published before this call (None:
    not within `limit`): consumer lag as of the last fault, back to zero."""
    started = time.monotonic()
    targets = await group_targets(bootstrap, limit)

    async def one(group: str) -> float | None:
        left = limit - (time.monotonic() - started)
        target = targets[group]
        if target is None:
            return None  # Kafka gave no end offsets within the limit
        try:
            await until_committed(bootstrap, group, target, max(left, 0.1))
        except AssertionError:
            return None
        return round(time.monotonic() - started, 1)

    found = await asyncio.gather(*(one(g) for g in targets))
    return dict(zip(targets, found, strict=True))


async def _table_rows(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    """Every row as JSON text but `updated_at`: when the row was last written, which a
    rebuild rewrites by definition (no event carries it; intake's own rebuild test, too,
    compares without it)."""
    rows = await conn.fetch(
        f"SELECT (to_jsonb(t) - 'updated_at')::text AS row FROM {schema}.{table} t ORDER BY 1"
    )
    return [r["row"] for r in rows]


async def rebuild_diffs(settings: OpsSettings) -> dict[str, str]:
    """Per service: '' when every read-model table is row for row what `tidemark-ops
    rebuild` makes from the events, else the first differences. Services must be stopped."""
    models = read_models()
    out: dict[str, str] = {}
    for service in TOPICS:
        if service not in models:
            out[service] = SKIPPED
            continue
        schema, tables = schema_of(service), models[service]().tables
        conn = await asyncpg.connect(settings.database_url)
        try:
            before = {t: await _table_rows(conn, schema, t) for t in tables}
            await rebuild_service(settings, service, io.StringIO())
            after = {t: await _table_rows(conn, schema, t) for t in tables}
        finally:
            await conn.close()
        problems = []
        for table in tables:
            gone = sorted(set(before[table]) - set(after[table]))
            new = sorted(set(after[table]) - set(before[table]))
            if gone or new:
                problems.append(f"{table}: {len(gone)} live rows differ from the rebuild's "
                                f"{len(new)}; live {gone[:1]} rebuilt {new[:1]}")  # fmt: skip
        out[service] = "; ".join(problems)
    return out
