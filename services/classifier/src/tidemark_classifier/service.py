"""Classifier handlers: load, decide (pure), and write through the unit of work.

The classifier keeps its state in tables (classifications, licenses, coupon years), so its
events are recorded (`uow.record`): the lock on the ticket's or license's row orders the
decisions, not a version read just before writing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from tidekit.events.classifier import LicenseRecorded, TicketClassified, TicketReclassified
from tidekit.events.intake import TicketSubmitted
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidekit.store.table_writes import TableWrite

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


@dataclass(frozen=True)
class PutLicense:
    """Staff register or change the license `key` in the directory (PUT
    /v1/licenses/{key}); the change is recorded as a `license.recorded`."""

    key: str
    body: LicenseIn
    staff_id: str


@dataclass(frozen=True)
class Reclassify:
    """Staff override a ticket's level and/or severity, with a reason; level and
    severity are the body's raw values, checked by the domain's reclassify."""

    tid: str
    level: Any
    severity: Any
    clear_severity: bool
    reason: str
    staff_id: str


class ClassifierService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        policy_version: str,
        periods: SupportPeriods,
        rules: Rules,
    ) -> None:
        self.runtime = runtime
        self.policy_version = policy_version
        self.periods = periods  # the policy's support periods
        self.rules = rules

    def register(self) -> None:
        handlers = self.runtime.handlers
        handlers.register(TicketSubmitted, self.on_submitted)
        handlers.register(PutLicense, self.put_license)
        handlers.register(Reclassify, self.reclassify)

    async def on_submitted(self, event: TicketSubmitted, uow: UnitOfWork) -> None:
        """Classify once per ticket: a ticket already classified is left alone (a replay
        under a new event id spends no second coupon)."""
        conn = uow.conn
        if await conn.fetchval("SELECT 1 FROM classifications WHERE tid = $1", event.tid):
            return
        now = uow.now()
        lic = await directory.load_license(conn, event.license_key)
        assessment = assess(event, lic, self.rules, self.periods, now.date())
        outcome: CouponOutcome | None = None
        if isinstance(assessment.coupon, CouponAttempt):
            outcome = await coupon_store.spend(conn, assessment.coupon, event.tid, now)
        elif isinstance(assessment.coupon, CouponRefused):
            outcome = assessment.coupon
        events = conclude(assessment, outcome, self.policy_version, now)
        uow.record(events)
        classified = events[-1]
        assert isinstance(classified, TicketClassified)
        uow.stage(save_classification(classified))  # in the events' statement

    async def put_license(
        self, command: PutLicense, uow: UnitOfWork
    ) -> tuple[LicenseRecorded | None, dict[str, Any]]:
        """(the change recorded, if any; the stored license)."""
        changed = await directory.save_license(
            uow, command.key, command.body, source="api", recorded_by=command.staff_id,
            rules=self.rules,
        )  # fmt: skip
        row = await directory.load_row(uow.conn, command.key)
        assert row is not None
        return changed, row

    async def reclassify(
        self, command: Reclassify, uow: UnitOfWork
    ) -> Literal["changed", "unchanged", "unknown"]:
        """Raises ReclassifyRefused for an override that is not allowed."""
        row = await uow.conn.fetchrow(
            "SELECT level, severity FROM classifications WHERE tid = $1 FOR UPDATE", command.tid
        )
        if row is None:
            return "unknown"
        event = reclassify(
            Current(command.tid, row["level"], row["severity"]),
            level=command.level,
            severity=command.severity,
            clear_severity=command.clear_severity,
            reason=command.reason,
            staff_id=command.staff_id,
            policy_version=self.policy_version,
            now=uow.now(),
        )
        if event is None:
            return "unchanged"
        uow.record([event])
        uow.stage(save_reclassification(event))
        return "changed"


def save_classification(d: TicketClassified) -> TableWrite:
    """The ticket's classification row, written with the events that decided it."""
    return TableWrite(
        """INSERT INTO classifications (tid, level, severity, category, in_scope, entitlement,
               urgent, license_key, policy_version, reasons, classified_at, rules_version,
               submitted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)""",
        (
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
        ),
    )


def save_reclassification(e: TicketReclassified) -> TableWrite:
    """The override on the classification row, written with its event."""
    return TableWrite(
        """UPDATE classifications SET level = $2, severity = $3,
               reasons = reasons || $4::jsonb, reclassified_at = $5 WHERE tid = $1""",
        (e.tid, e.level, e.severity, json.dumps(list(e.reasons)), e.reclassified_at),
    )
