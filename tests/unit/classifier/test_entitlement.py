"""Entitlement, levels and support periods (SPEC 1.1, 1.6), pure."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tidekit.sla import Policy, PolicyError, load_policy
from tidekit.sla.policy import build_policy
from tidemark_classifier.domain import (
    COMMERCIAL_LEVELS,
    License,
    SupportPeriods,
    entitlement_for,
    support_periods,
)

EDITIONS = [
    "start",
    "standard",
    "expert",
    "business",
    "premium",
    "ultimate",
    "non_commercial",
    "demo",
]
ADA = "ada@example.com"
SHIPPED = support_periods(load_policy())


def operator_policy(**periods: str | None) -> Policy:
    """The shipped policy with the support periods given (None: the level has none)."""
    text = resources.files("tidekit.sla").joinpath("default_policy.yaml").read_text()
    document = yaml.safe_load(text)
    for level, period in periods.items():
        document["levels"][level]["support_period"] = period
    return build_policy(document, "operator.yaml")


def decide(
    license_: License | None, today: date, periods: SupportPeriods = SHIPPED, email: str = ADA
) -> tuple[str, str]:
    decided = entitlement_for(email, "LIC-1", license_, today, periods)
    return decided.level, decided.entitlement


def lic(edition: str = "business", bought: date = date(2026, 3, 1), **kw: object) -> License:
    fields: dict[str, object] = {"partner": False, "support_end": None} | kw
    return License("LIC-1", edition, "Owner", frozenset({ADA}), purchase_date=bought, **fields)  # type: ignore[arg-type]


def test_commercial_support_lasts_one_year_to_the_day() -> None:
    bought = date(2026, 3, 1)
    assert decide(lic(bought=bought), date(2027, 2, 28)) == ("commercial", "active")
    late = entitlement_for(ADA, "LIC-1", lic(bought=bought), date(2027, 3, 1), SHIPPED)
    assert (late.level, late.entitlement) == ("commercial", "expired")
    assert any("renew" in r and "2027-02-28" in r for r in late.reasons)


def test_non_commercial_support_lasts_30_days() -> None:
    bought = date(2026, 11, 1)
    demo = lic("demo", bought)
    assert decide(demo, bought + timedelta(days=29)) == ("non_commercial", "active")
    assert decide(demo, bought + timedelta(days=30)) == ("non_commercial", "expired")


def test_partners_are_supported_without_end_and_a_recorded_end_wins() -> None:
    partner = lic("start", date(2001, 1, 1), partner=True, support_end=date(2002, 1, 1))
    decided = entitlement_for(ADA, "LIC-1", partner, date(2026, 11, 27), SHIPPED)
    assert (decided.level, decided.entitlement) == ("partner", "active")
    assert any("unlimited" in r for r in decided.reasons)
    extended = lic(bought=date(2020, 1, 1), support_end=date(2030, 1, 1))
    assert decide(extended, date(2026, 11, 27)) == ("commercial", "active")


def test_leap_day_purchase_ends_on_the_last_day_of_february() -> None:
    leap = lic(bought=date(2028, 2, 29))
    assert decide(leap, date(2029, 2, 28)) == ("commercial", "active")
    assert decide(leap, date(2029, 3, 1)) == ("commercial", "expired")


def test_a_claimed_edition_without_a_key_is_marked_as_a_possible_unlicensed_copy() -> None:
    decided = entitlement_for(
        ADA, None, None, date(2026, 11, 27), SHIPPED, claimed_edition="ultimate"
    )
    assert (decided.level, decided.entitlement) == ("non_commercial", "unregistered_sender")
    assert "unlicensed copy" in decided.reasons[0]


@given(
    edition=st.sampled_from(EDITIONS),
    partner=st.booleans(),
    registered=st.booleans(),
    known=st.booleans(),
    bought=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    age=st.integers(0, 3000),
)
def test_only_a_registered_sender_of_a_known_commercial_license_gets_a_commercial_level(
    edition: str, partner: bool, registered: bool, known: bool, bought: date, age: int
) -> None:
    today = bought + timedelta(days=age)
    license_ = lic(edition, bought, partner=partner) if known else None
    email = ADA if registered else "eve@example.com"
    decided = entitlement_for(email.upper(), "LIC-1", license_, today, SHIPPED)
    assert decided.reasons
    commercial_license = partner or edition not in ("non_commercial", "demo")
    if decided.level in COMMERCIAL_LEVELS:
        assert known and registered and commercial_license
    if not known:
        assert (decided.level, decided.entitlement) == ("non_commercial", "unknown_license")
    elif not registered:
        assert (decided.level, decided.entitlement) == ("non_commercial", "unregistered_sender")
    else:
        days = None if partner else (30 if edition in ("non_commercial", "demo") else None)
        if partner:
            assert decided.entitlement == "active"
        elif days is not None:
            assert (decided.entitlement == "expired") == (age >= days)
        else:
            one_year = (today - bought).days >= 366 or (
                (today - bought).days == 365 and not _contains_leap_day(bought, today)
            )
            assert (decided.entitlement == "expired") == one_year


def _contains_leap_day(start: date, end: date) -> bool:
    return any(
        (d := start + timedelta(days=n)).month == 2 and d.day == 29
        for n in range((end - start).days + 1)
    )


def test_the_policys_support_periods_decide_entitlement() -> None:
    """An operator's 90 days commercial / 7 days non-commercial replace 1 year / 30 days."""
    periods = support_periods(
        operator_policy(commercial="90d", commercial_vip="90d", non_commercial="7d")
    )
    bought = date(2026, 3, 1)
    for edition, level in (("business", "commercial"), ("premium", "commercial_vip")):
        assert decide(lic(edition, bought), bought + timedelta(days=89), periods) == (
            level,
            "active",
        )
        assert decide(lic(edition, bought), bought + timedelta(days=90), periods) == (
            level,
            "expired",
        )
        # The shipped policy still gives this license its year.
        assert decide(lic(edition, bought), bought + timedelta(days=90)) == (level, "active")
    late = entitlement_for(ADA, "LIC-1", lic(bought=bought), date(2026, 6, 1), periods)
    assert any("ended on 2026-05-29" in r for r in late.reasons), late.reasons
    demo = lic("demo", bought)
    assert decide(demo, bought + timedelta(days=6), periods) == ("non_commercial", "active")
    assert decide(demo, bought + timedelta(days=7), periods) == ("non_commercial", "expired")
    assert decide(demo, bought + timedelta(days=7)) == ("non_commercial", "active")


def test_partners_are_unlimited_only_while_the_policy_gives_them_no_period() -> None:
    partner = lic("start", date(2020, 1, 1), partner=True)
    assert decide(partner, date(2026, 11, 27)) == ("partner", "active")
    # 730 days are two years to the anniversary, like the shipped 365d is one.
    periods = support_periods(operator_policy(partner="730d"))
    assert decide(partner, date(2021, 12, 31), periods) == ("partner", "active")
    assert decide(partner, date(2022, 1, 1), periods) == ("partner", "expired")
    unlimited = support_periods(operator_policy(commercial=None))
    assert decide(lic(bought=date(2000, 1, 1)), date(2026, 11, 27), unlimited) == (
        "commercial",
        "active",
    )


@pytest.mark.parametrize(
    ("period", "problem"),
    [("soon", "not a duration"), ("36h", "whole days"), ("0d", "at least one day")],
)
def test_a_support_period_that_is_not_whole_days_fails_naming_the_level(
    period: str, problem: str
) -> None:
    with pytest.raises(PolicyError, match=rf"levels\.commercial\.support_period: .*{problem}"):
        support_periods(operator_policy(commercial=period))
