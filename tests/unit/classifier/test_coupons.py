"""VIP coupon decisions (SPEC 1.7), pure: who may try, and the license year counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidekit.events.classifier import VipCouponRefused, VipCouponSpent
from tidekit.events.intake import Requester, TicketSubmitted
from tidekit.sla import load_policy
from tidemark_classifier.domain import (
    CouponAttempt,
    CouponRefused,
    License,
    assess,
    classify,
    conclude,
    coupon_check,
    default_rules,
    entitlement_for,
    license_year_start,
    support_periods,
)
from tidemark_classifier.domain.decide import settle_without_store

RULES = default_rules()
PERIODS = support_periods(load_policy())
TODAY = date(2026, 11, 27)
ADA = "ada@example.com"


def lic(edition: str, bought: date = date(2026, 3, 1), allowance: int | None = None) -> License:
    return License("LIC-1", edition, "O", frozenset({ADA}), False, bought, None, allowance)


def check(license_: License | None, email: str = ADA, in_scope: bool = True) -> object:
    entitled = entitlement_for(email, "LIC-1", license_, TODAY, PERIODS)
    return coupon_check(license_, entitled, in_scope, RULES, TODAY)


def test_premium_and_ultimate_may_spend_3_and_5() -> None:
    assert check(lic("premium")) == CouponAttempt("LIC-1", date(2026, 3, 1), 3)
    assert check(lic("ultimate")) == CouponAttempt("LIC-1", date(2026, 3, 1), 5)
    assert check(lic("premium", allowance=7)) == CouponAttempt("LIC-1", date(2026, 3, 1), 7)


@pytest.mark.parametrize(
    ("license_", "email", "in_scope", "reason"),
    [
        (lic("business"), ADA, True, "wrong_edition"),
        (lic("premium", allowance=0), ADA, True, "wrong_edition"),
        (lic("premium"), "eve@example.com", True, "unregistered_sender"),
        (None, ADA, True, "unknown_license"),
        (lic("premium", date(2024, 1, 1)), ADA, True, "expired"),
        (lic("premium"), ADA, False, "out_of_scope"),
    ],
)
def test_refusals_name_their_reason(
    license_: License | None, email: str, in_scope: bool, reason: str
) -> None:
    refused = check(license_, email, in_scope)
    assert isinstance(refused, CouponRefused) and refused.reason == reason
    assert refused.explanation


@given(bought=st.dates(date(2000, 1, 1), date(2030, 1, 1)), age=st.integers(0, 4000))
def test_the_license_year_is_the_latest_anniversary(bought: date, age: int) -> None:
    today = bought + timedelta(days=age)
    start = license_year_start(bought, today)
    assert bought <= start <= today
    assert (today - start).days < 366
    assert (start.month, start.day) == (bought.month, bought.day) or (
        (bought.month, bought.day) == (2, 29) and (start.month, start.day) == (2, 28)
    )


def submitted(
    vip: bool = True, body: str = "The export is wrong", email: str = ADA
) -> TicketSubmitted:
    return TicketSubmitted(
        tid="TID-1",
        channel="web",
        requester=Requester(email=email),
        license_key="LIC-1",
        subject="Export",
        body=body,
        vip_coupon=vip,
        submitted_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
    )


def test_a_spent_coupon_makes_a_vip_request_and_says_so() -> None:
    now = datetime(2026, 11, 27, 9, 1, tzinfo=UTC)
    a = assess(submitted(), lic("premium"), RULES, PERIODS, TODAY)
    assert isinstance(a.coupon, CouponAttempt)
    spent, classified = conclude(a, settle_without_store(a.coupon, 3), "p1", now)
    assert isinstance(spent, VipCouponSpent) and spent.remaining == 2 and spent.allowance == 3
    assert classified.level == "vip_request"  # type: ignore[attr-defined]
    refused, classified = conclude(a, settle_without_store(a.coupon, 0), "p1", now)
    assert isinstance(refused, VipCouponRefused) and refused.reason == "used_up"
    assert classified.level == "commercial_vip"  # type: ignore[attr-defined]
    assert any("used_up" in r for r in classified.reasons)  # type: ignore[attr-defined]


def test_no_coupon_asked_means_no_coupon_event() -> None:
    a = assess(submitted(vip=False), lic("premium"), RULES, PERIODS, TODAY)
    assert a.coupon is None
    events = conclude(a, None, "p1", datetime(2026, 11, 27, 9, tzinfo=UTC))
    assert [e.event_type for e in events] == ["ticket.classified"]


def test_out_of_scope_vip_request_spends_nothing_and_is_non_product() -> None:
    body = "Can you write a custom plugin that syncs our CRM?"
    now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    classified = classify(submitted(body=body), lic("ultimate"), "p1", now, periods=PERIODS)
    assert classified.level == "non_product" and not classified.in_scope
    assert any("out_of_scope" in r for r in classified.reasons)
