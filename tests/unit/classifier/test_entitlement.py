"""Entitlement, levels and support periods (SPEC 1.1, 1.6), pure."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tidemark_classifier.domain import COMMERCIAL_LEVELS, License, entitlement_for

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


def lic(edition: str = "business", bought: date = date(2026, 3, 1), **kw: object) -> License:
    fields: dict[str, object] = {"partner": False, "support_end": None} | kw
    return License("LIC-1", edition, "Owner", frozenset({ADA}), purchase_date=bought, **fields)  # type: ignore[arg-type]


def test_commercial_support_lasts_one_year_to_the_day() -> None:
    bought = date(2026, 3, 1)
    assert (
        entitlement_for(ADA, "LIC-1", lic(bought=bought), date(2027, 2, 28)).entitlement == "active"
    )
    late = entitlement_for(ADA, "LIC-1", lic(bought=bought), date(2027, 3, 1))
    assert (late.level, late.entitlement) == ("commercial", "expired")
    assert any("renew" in r and "2027-02-28" in r for r in late.reasons)


def test_non_commercial_support_lasts_30_days() -> None:
    bought = date(2026, 11, 1)
    demo = lic("demo", bought)
    assert entitlement_for(ADA, "LIC-1", demo, bought + timedelta(days=29)).entitlement == "active"
    assert entitlement_for(ADA, "LIC-1", demo, bought + timedelta(days=30)).entitlement == "expired"


def test_partners_are_supported_without_end_and_a_recorded_end_wins() -> None:
    partner = lic("start", date(2001, 1, 1), partner=True, support_end=date(2002, 1, 1))
    decided = entitlement_for(ADA, "LIC-1", partner, date(2026, 11, 27))
    assert (decided.level, decided.entitlement) == ("partner", "active")
    assert any("unlimited" in r for r in decided.reasons)
    extended = lic(bought=date(2020, 1, 1), support_end=date(2030, 1, 1))
    assert entitlement_for(ADA, "LIC-1", extended, date(2026, 11, 27)).entitlement == "active"


def test_leap_day_purchase_ends_on_the_last_day_of_february() -> None:
    leap = lic(bought=date(2028, 2, 29))
    assert entitlement_for(ADA, "LIC-1", leap, date(2029, 2, 28)).entitlement == "active"
    assert entitlement_for(ADA, "LIC-1", leap, date(2029, 3, 1)).entitlement == "expired"


def test_a_claimed_edition_without_a_key_is_marked_as_a_possible_unlicensed_copy() -> None:
    decided = entitlement_for(ADA, None, None, date(2026, 11, 27), claimed_edition="ultimate")
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
    decided = entitlement_for(email.upper(), "LIC-1", license_, today)
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
