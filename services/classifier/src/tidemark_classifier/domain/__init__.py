"""The classifier's pure decisions (no I/O): entitlement and level, VIP coupons, severity,
scope and category, urgency, staff overrides. Every decision carries its reasons."""

from .coupons import (
    CouponAttempt,
    CouponOutcome,
    CouponRefused,
    CouponSpent,
    coupon_check,
    license_year_start,
    used_up,
)
from .decide import Assessment, assess, classify, conclude
from .entitlement import (
    COMMERCIAL_LEVELS,
    Entitled,
    License,
    SupportPeriods,
    entitlement_for,
    support_periods,
)
from .reclassify import Current, ReclassifyRefused, reclassify
from .rules import Rules, RulesError, default_rules
from .text import scope_for, severity_for

__all__ = [
    "COMMERCIAL_LEVELS",
    "Assessment",
    "CouponAttempt",
    "CouponOutcome",
    "CouponRefused",
    "CouponSpent",
    "Current",
    "Entitled",
    "License",
    "ReclassifyRefused",
    "Rules",
    "RulesError",
    "SupportPeriods",
    "assess",
    "classify",
    "conclude",
    "coupon_check",
    "default_rules",
    "entitlement_for",
    "license_year_start",
    "reclassify",
    "scope_for",
    "severity_for",
    "support_periods",
    "used_up",
]
