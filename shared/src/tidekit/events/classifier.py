"""Events owned by the classifier service (topic tidemark.classifier.v1)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from .base import DomainEvent, event
from .vocabulary import Category, Edition, Entitlement, Level, Severity, UtcDatetime


@event
class TicketClassified(DomainEvent):
    """Who the customer is and how bad the problem is, with the rules that fired."""

    event_type = "ticket.classified"
    tid: str
    level: Level
    severity: Severity | None
    category: Category
    in_scope: bool
    entitlement: Entitlement
    urgent: bool = False
    license_key: str | None = None
    policy_version: str
    reasons: tuple[str, ...]
    submitted_at: UtcDatetime
    classified_at: UtcDatetime
    rules_version: str | None = None


@event
class TicketReclassified(DomainEvent):
    event_type = "ticket.reclassified"
    tid: str
    level: Level
    severity: Severity | None
    previous_level: Level
    previous_severity: Severity | None
    reason: str
    reclassified_by: str
    policy_version: str
    reclassified_at: UtcDatetime
    reasons: tuple[str, ...] = ()


@event
class VipCouponSpent(DomainEvent):
    event_type = "vip_coupon.spent"
    tid: str
    license_key: str
    license_year_start: str
    remaining: int
    spent_at: UtcDatetime
    allowance: int | None = None


CouponRefusal = Literal[
    "used_up",
    "wrong_edition",
    "expired",
    "unregistered_sender",
    "unknown_license",
    "out_of_scope",
]


@event
class VipCouponRefused(DomainEvent):
    event_type = "vip_coupon.refused"
    tid: str
    license_key: str | None
    reason: CouponRefusal
    explanation: str
    refused_at: UtcDatetime


@event
class LicenseRecorded(DomainEvent):
    """A license entered or changed in the customer directory (by staff or a bulk import).

    Its stream (and Kafka key) is `license/<key>`, never a TID."""

    event_type = "license.recorded"
    license_key: str
    change: Literal["registered", "updated"]
    edition: Edition
    owner: str
    emails: tuple[str, ...]
    group_emails: tuple[str, ...] = ()
    partner: bool = False
    purchase_date: date
    support_end: date | None = None
    coupon_allowance: int | None = None
    source: Literal["api", "import"] = "api"
    recorded_by: str
    recorded_at: UtcDatetime

    def stream_id(self) -> str:
        return f"license/{self.license_key}"
