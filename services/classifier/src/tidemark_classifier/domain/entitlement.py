"""Entitlement and level from the customer directory (SPEC 1.1, 1.6), with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tidekit.events.vocabulary import Entitlement, Level

COMMERCIAL_LEVELS: frozenset[Level] = frozenset(
    {"vip_request", "partner", "commercial_vip", "commercial"}
)
NON_COMMERCIAL_EDITIONS = frozenset({"non_commercial", "demo"})
VIP_EDITIONS = frozenset({"premium", "ultimate"})
NON_COMMERCIAL_DAYS = 30
RENEW = "renew the license to restore support (the customer is told how)"


@dataclass(frozen=True)
class License:
    license_key: str
    edition: str
    owner: str
    emails: frozenset[str]
    partner: bool
    purchase_date: date
    support_end: date | None
    coupon_allowance: int | None = None  # None: the rules' allowance for the edition

    def registers(self, email: str) -> bool:
        return email.lower() in self.emails

    def support_ends(self) -> date | None:
        """The last day of support: None for partners (unlimited), else the recorded support
        end, else 30 days for non-commercial editions and one year for commercial ones."""
        if self.partner:
            return None
        if self.support_end is not None:
            return self.support_end
        if self.edition in NON_COMMERCIAL_EDITIONS:
            return self.purchase_date + timedelta(days=NON_COMMERCIAL_DAYS - 1)
        return _one_year_after(self.purchase_date) - timedelta(days=1)


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


@dataclass(frozen=True)
class Entitled:
    level: Level
    entitlement: Entitlement
    reasons: tuple[str, ...]


def entitlement_for(
    email: str,
    license_key: str | None,
    lic: License | None,
    today: date,
    claimed_edition: str | None = None,
) -> Entitled:
    """Registered sender -> the license's level; anyone else -> non_commercial, marked."""
    if license_key is None:
        why = "no license key given: non_commercial"
        if claimed_edition and claimed_edition.lower() not in NON_COMMERCIAL_EDITIONS:
            why = (
                f"no license key given although the product says {claimed_edition}: "
                "possibly an unlicensed copy, non_commercial"
            )
        return Entitled("non_commercial", "unregistered_sender", (why,))
    if lic is None:
        return Entitled(
            "non_commercial",
            "unknown_license",
            (f"license key {license_key} is not in the directory: non_commercial",),
        )
    if not lic.registers(email):
        return Entitled(
            "non_commercial",
            "unregistered_sender",
            (f"{email} is not registered on license {license_key}: non_commercial",),
        )
    level, why = _level_for(lic)
    why = f"{email} is registered on license {license_key}; {why}"
    ends = lic.support_ends()
    if ends is not None and today > ends:
        return Entitled(
            level,
            "expired",
            (
                why,
                f"entitlement expired: the support period of license {license_key} "
                f"ended on {ends}; no response clock; {RENEW}",
            ),
        )
    period = "unlimited (partner)" if ends is None else f"until {ends}"
    return Entitled(level, "active", (why, f"support period {period}"))


def _level_for(lic: License) -> tuple[Level, str]:
    if lic.partner:
        return "partner", f"{lic.edition} partner license: partner"
    if lic.edition in VIP_EDITIONS:
        return "commercial_vip", f"{lic.edition} license: commercial_vip"
    if lic.edition in NON_COMMERCIAL_EDITIONS:
        return "non_commercial", f"{lic.edition} license: non_commercial"
    return "commercial", f"{lic.edition} commercial license: commercial"
