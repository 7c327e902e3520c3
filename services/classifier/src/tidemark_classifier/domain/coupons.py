"""VIP coupons (SPEC 1.7): who may spend one, and the license year it is counted in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tidekit.events.classifier import CouponRefusal

from .entitlement import VIP_EDITIONS, Entitled, License
from .rules import Rules


@dataclass(frozen=True)
class CouponAttempt:
    """The request may spend a coupon of this license year, if one is left."""

    license_key: str
    year_start: date
    allowance: int


@dataclass(frozen=True)
class CouponRefused:
    """No coupon is spent: `reason` is the code the ticket's `vip_coupon.refused`
    carries, `explanation` the sentence that says why."""

    reason: CouponRefusal
    explanation: str


@dataclass(frozen=True)
class CouponSpent:
    """A coupon of the license year starting `year_start` is spent; `remaining` of
    its `allowance` are left."""

    license_key: str
    year_start: date
    allowance: int
    remaining: int


CouponOutcome = CouponSpent | CouponRefused


def license_year_start(purchase: date, today: date) -> date:
    """The latest anniversary of the purchase date on or before `today` (29 Feb -> 28 Feb)."""
    years = today.year - purchase.year
    start = _anniversary(purchase, purchase.year + years)
    if start > today:
        start = _anniversary(purchase, purchase.year + years - 1)
    return max(start, purchase)


def _anniversary(purchase: date, year: int) -> date:
    try:
        return purchase.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def allowance_for(lic: License, rules: Rules) -> int:
    if lic.coupon_allowance is not None:
        return lic.coupon_allowance
    return rules.vip_coupons.get(lic.edition, 0)


def coupon_check(
    lic: License | None, entitled: Entitled, in_scope: bool, rules: Rules, today: date
) -> CouponAttempt | CouponRefused:
    """Whether a request marked VIP may try to spend a coupon (spending is the store's job)."""
    if entitled.entitlement == "unknown_license" or lic is None:
        return CouponRefused("unknown_license", "the license key is not in the directory")
    if entitled.entitlement == "unregistered_sender":
        return CouponRefused("unregistered_sender", "the sender is not registered on the license")
    if entitled.entitlement == "expired":
        return CouponRefused(
            "expired", "the license's support period is over; renew it to use VIP requests"
        )
    allowance = allowance_for(lic, rules)
    if lic.edition not in VIP_EDITIONS or allowance <= 0:
        return CouponRefused(
            "wrong_edition",
            f"{lic.edition} licenses have no VIP requests (Premium and Ultimate have)",
        )
    if not in_scope:
        return CouponRefused(
            "out_of_scope", "the request is outside the support scope; no coupon was spent"
        )
    return CouponAttempt(lic.license_key, license_year_start(lic.purchase_date, today), allowance)


def used_up(attempt: CouponAttempt) -> CouponRefused:
    return CouponRefused(
        "used_up",
        f"all {attempt.allowance} VIP requests of the license year from "
        f"{attempt.year_start} are spent",
    )
