"""Classifier handlers: load the license, decide, append `ticket.classified` in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from tidekit.events.classifier import TicketClassified
from tidekit.events.envelope import Envelope
from tidekit.events.intake import TicketSubmitted
from tidekit.runtime import ServiceRuntime

from .domain import License, classify


async def load_license(conn: asyncpg.Connection, key: str | None) -> License | None:
    if key is None:
        return None
    row = await conn.fetchrow("SELECT * FROM licenses WHERE license_key = $1", key)
    if row is None:
        return None
    return License(
        license_key=row["license_key"],
        edition=row["edition"],
        owner=row["owner"],
        emails=frozenset(e.lower() for e in [*row["emails"], *row["group_emails"]]),
        partner=row["partner"],
        purchase_date=row["purchase_date"],
        support_end=row["support_end"],
    )


class ClassifierService:
    def __init__(self, runtime: ServiceRuntime, policy_version: str) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.policy_version = policy_version

    async def on_submitted(
        self, event: TicketSubmitted, cause: Envelope, conn: asyncpg.Connection
    ) -> None:
        lic = await load_license(conn, event.license_key)
        decision = classify(event, lic, self.policy_version, datetime.now(UTC))
        version = await self.store.stream_version(conn, event.tid)
        await self.store.append(conn, event.tid, version, [decision], caused_by=cause)
        await save_classification(conn, decision)


async def save_classification(conn: asyncpg.Connection, d: TicketClassified) -> None:
    await conn.execute(
        """INSERT INTO classifications (tid, level, severity, category, in_scope, entitlement,
               urgent, license_key, policy_version, reasons, classified_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
           ON CONFLICT (tid) DO UPDATE SET level = EXCLUDED.level,
               severity = EXCLUDED.severity, category = EXCLUDED.category,
               in_scope = EXCLUDED.in_scope, entitlement = EXCLUDED.entitlement,
               urgent = EXCLUDED.urgent, policy_version = EXCLUDED.policy_version,
               reasons = EXCLUDED.reasons, classified_at = EXCLUDED.classified_at""",
        d.tid,
        d.level,
        d.severity,
        d.category,
        d.in_scope,
        d.entitlement,
        d.urgent,
        d.license_key,
        d.policy_version,
        json.dumps(list(d.reasons)),
        d.classified_at,
    )
