"""The classification of a submitted ticket, in two pure steps around the coupon store.

`assess` reads the request, the license and the rules; if the request asks for a VIP coupon
and may spend one, the shell tries the conditional update in Postgres; `conclude` turns the
assessment and that outcome into the events, every decision with its reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified, VipCouponRefused, VipCouponSpent
from tidekit.events.intake import TicketSubmitted
from tidekit.events.vocabulary import Level, Severity

from .coupons import (
    CouponAttempt,
    CouponOutcome,
    CouponRefused,
    CouponSpent,
    coupon_check,
    used_up,
)
from .entitlement import COMMERCIAL_LEVELS, Entitled, License, SupportPeriods, entitlement_for
from .rules import Rules, default_rules, own_words
from .text import Decided, Scope, scope_for, severity_for


@dataclass(frozen=True)
class Assessment:
    submitted: TicketSubmitted
    entitled: Entitled
    scope: Scope
    severity: Decided[Severity | None]
    coupon: CouponAttempt | CouponRefused | None  # None: no coupon asked for
    rules_version: str


def assess(
    submitted: TicketSubmitted,
    lic: License | None,
    rules: Rules,
    periods: SupportPeriods,
    today: date,
) -> Assessment:
    entitled = entitlement_for(
        submitted.requester.email,
        submitted.license_key,
        lic,
        today,
        periods,
        submitted.product.edition,
    )
    body = own_words(submitted.body)
    scope = scope_for(rules, submitted.subject, body)
    severity = severity_for(rules, submitted.severity_hint, submitted.subject, body)
    coupon = (
        coupon_check(lic, entitled, scope.in_scope, rules, today) if submitted.vip_coupon else None
    )
    return Assessment(submitted, entitled, scope, severity, coupon, rules.version)


def conclude(
    a: Assessment, outcome: CouponOutcome | None, policy_version: str, now: datetime
) -> list[DomainEvent]:
    """The events of the classification: the coupon's fate (if one was asked for), then
    `ticket.classified`."""
    s = a.submitted
    reasons = list(a.entitled.reasons)
    level: Level = a.entitled.level
    reasons.extend(a.scope.reasons)
    if not a.scope.in_scope:
        level = "non_product"
        reasons.append("outside the support scope: non_product")
    events: list[DomainEvent] = []
    if isinstance(outcome, CouponSpent):
        level = "vip_request"
        reasons.append(
            f"VIP coupon spent ({outcome.remaining} of {outcome.allowance} left in the license "
            f"year from {outcome.year_start}): vip_request"
        )
        events.append(
            VipCouponSpent(
                tid=s.tid,
                license_key=outcome.license_key,
                license_year_start=outcome.year_start.isoformat(),
                remaining=outcome.remaining,
                allowance=outcome.allowance,
                spent_at=now,
            )
        )
    elif isinstance(outcome, CouponRefused):
        reasons.append(f"VIP coupon refused ({outcome.reason}): {outcome.explanation}")
        events.append(
            VipCouponRefused(
                tid=s.tid,
                license_key=s.license_key,
                reason=outcome.reason,
                explanation=outcome.explanation,
                refused_at=now,
            )
        )
    severity: Severity | None = None
    if level in COMMERCIAL_LEVELS:
        severity = a.severity.value
        reasons.extend(a.severity.reasons)
    elif s.severity_hint is not None or a.severity.value is not None:
        reasons.append(f"severity ignored: {level} has no severity targets (SPEC 1.3)")
    events.append(
        TicketClassified(
            tid=s.tid,
            level=level,
            severity=severity,
            category=a.scope.category,
            in_scope=a.scope.in_scope,
            entitlement=a.entitled.entitlement,
            urgent=a.scope.urgent,
            license_key=s.license_key,
            policy_version=policy_version,
            rules_version=a.rules_version,
            reasons=tuple(reasons),
            submitted_at=s.submitted_at,
            classified_at=now,
        )
    )
    return events


def settle_without_store(attempt: CouponAttempt, coupons_left: int) -> CouponOutcome:
    """What the store would answer with `coupons_left` coupons left (for pure callers)."""
    if coupons_left <= 0:
        return used_up(attempt)
    return CouponSpent(attempt.license_key, attempt.year_start, attempt.allowance, coupons_left - 1)


def classify(
    submitted: TicketSubmitted,
    lic: License | None,
    policy_version: str,
    now: datetime,
    rules: Rules | None = None,
    coupons_left: int | None = None,
    *,
    periods: SupportPeriods,
) -> TicketClassified:
    """The whole decision without a store: a coupon attempt is settled against
    `coupons_left` (default: the year's full allowance); `periods` from the policy."""
    a = assess(submitted, lic, rules or default_rules(), periods, now.date())
    outcome: CouponOutcome | None = a.coupon if isinstance(a.coupon, CouponRefused) else None
    if isinstance(a.coupon, CouponAttempt):
        left = a.coupon.allowance if coupons_left is None else coupons_left
        outcome = settle_without_store(a.coupon, left)
    last = conclude(a, outcome, policy_version, now)[-1]
    assert isinstance(last, TicketClassified)
    return last
