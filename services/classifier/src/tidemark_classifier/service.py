"""Classifier handlers: load, decide (pure), and append the events in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

import asyncpg

from tidekit.events.classifier import LicenseRecorded, TicketClassified, TicketReclassified
from tidekit.events.envelope import Envelope
from tidekit.events.intake import TicketSubmitted
from tidekit.runtime import ServiceRuntime
from tidekit.store.eventstore import ConcurrencyConflict

from . import coupon_store, directory
from .domain import (
    CouponAttempt,
    CouponOutcome,
    CouponRefused,
    Current,
    Rules,
    SupportPeriods,
    assess,
    conclude,
    reclassify,
)
from .models import LicenseIn

T = TypeVar("T")


class ClassifierService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        policy_version: str,
        periods: SupportPeriods,
        rules: Rules,
    ) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.policy_version = policy_version
        self.periods = periods  # the policy's support periods
        self.rules = rules

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def on_submitted(
        self, event: TicketSubmitted, cause: Envelope, conn: asyncpg.Connection
    ) -> None:
        """Classify once per ticket: a ticket already classified is left alone (a replay
        under a new event id spends no second coupon)."""
        if await conn.fetchval("SELECT 1 FROM classifications WHERE tid = $1", event.tid):
            return
        now = self.now()
        lic = await directory.load_license(conn, event.license_key)
        assessment = assess(event, lic, self.rules, self.periods, now.date())
        outcome: CouponOutcome | None = None
        if isinstance(assessment.coupon, CouponAttempt):
            outcome = await coupon_store.spend(conn, assessment.coupon, event.tid, now)
        elif isinstance(assessment.coupon, CouponRefused):
            outcome = assessment.coupon
        events = conclude(assessment, outcome, self.policy_version, now)
        version = await self.store.stream_version(conn, event.tid)
        await self.store.append(conn, event.tid, version, events, caused_by=cause)
        classified = events[-1]
        assert isinstance(classified, TicketClassified)
        await save_classification(conn, classified)

    async def put_license(
        self, key: str, body: LicenseIn, staff_id: str
    ) -> tuple[LicenseRecorded | None, dict[str, Any]]:
        """(the change recorded, if any; the stored license)."""

        async def once(conn: asyncpg.Connection) -> LicenseRecorded | None:
            return await directory.save_license(
                conn, self.store, key, body, source="api", recorded_by=staff_id,
                now=self.now(), rules=self.rules,
            )  # fmt: skip

        changed = await self.in_transaction(once)
        if changed is not None:
            self.runtime.wake_relay()
        row = await directory.load_row(self.runtime.require_pool(), key)
        assert row is not None
        return changed, row

    async def reclassify(
        self,
        tid: str,
        *,
        level: Any,
        severity: Any,
        clear_severity: bool,
        reason: str,
        staff_id: str,
    ) -> Literal["changed", "unchanged", "unknown"]:
        """Raises ReclassifyRefused for an override that is not allowed."""

        async def once(conn: asyncpg.Connection) -> Literal["changed", "unchanged", "unknown"]:
            row = await conn.fetchrow(
                "SELECT level, severity FROM classifications WHERE tid = $1 FOR UPDATE", tid
            )
            if row is None:
                return "unknown"
            event = reclassify(
                Current(tid, row["level"], row["severity"]),
                level=level,
                severity=severity,
                clear_severity=clear_severity,
                reason=reason,
                staff_id=staff_id,
                policy_version=self.policy_version,
                now=self.now(),
            )
            if event is None:
                return "unchanged"
            version = await self.store.stream_version(conn, tid)
            await self.store.append(conn, tid, version, [event])
            await save_reclassification(conn, event)
            return "changed"

        result = await self.in_transaction(once)
        if result == "changed":
            self.runtime.wake_relay()
        return result

    async def in_transaction(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work` in a transaction, again from the start after a concurrency conflict."""
        pool = self.runtime.require_pool()
        for attempt in range(5):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    return await work(conn)
            except ConcurrencyConflict:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")


async def save_classification(conn: asyncpg.Connection, d: TicketClassified) -> None:
    await conn.execute(
        """INSERT INTO classifications (tid, level, severity, category, in_scope, entitlement,
               urgent, license_key, policy_version, reasons, classified_at, rules_version,
               submitted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)""",
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
        d.rules_version,
        d.submitted_at,
    )


async def save_reclassification(conn: asyncpg.Connection, e: TicketReclassified) -> None:
    await conn.execute(
        """UPDATE classifications SET level = $2, severity = $3,
               reasons = reasons || $4::jsonb, reclassified_at = $5 WHERE tid = $1""",
        e.tid,
        e.level,
        e.severity,
        json.dumps(list(e.reasons)),
        e.reclassified_at,
    )
