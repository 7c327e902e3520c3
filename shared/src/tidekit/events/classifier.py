"""Events owned by the classifier service (topic tidemark.classifier.v1)."""

from __future__ import annotations

from typing import Literal

from .base import DomainEvent, event
from .vocabulary import Category, Entitlement, Level, Severity, UtcDatetime


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


@event
class VipCouponSpent(DomainEvent):
    event_type = "vip_coupon.spent"
    tid: str
    license_key: str
    license_year_start: str
    remaining: int
    spent_at: UtcDatetime


CouponRefusal = Literal[
    "used_up", "wrong_edition", "expired", "unregistered_sender", "unknown_license"
]


@event
class VipCouponRefused(DomainEvent):
    event_type = "vip_coupon.refused"
    tid: str
    license_key: str | None
    reason: CouponRefusal
    explanation: str
    refused_at: UtcDatetime
