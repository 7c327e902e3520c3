"""Entitlement and level from the customer directory (SPEC 1.1, 1.6), with reasons.

How long support lasts is policy data (`levels.<level>.support_period`), handed in as
`SupportPeriods`: an operator's policy file changes entitlement without a code change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from tidekit.events.vocabulary import Entitlement, Level
from tidekit.sla import Policy, PolicyError, parse_duration

COMMERCIAL_LEVELS: frozenset[Level] = frozenset(
    {"vip_request", "partner", "commercial_vip", "commercial"}
)
NON_COMMERCIAL_EDITIONS = frozenset({"non_commercial", "demo"})
VIP_EDITIONS = frozenset({"premium", "ultimate"})
DAYS_IN_A_YEAR = 365
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


@dataclass(frozen=True)
class SupportPeriods:
    """Days of support from the purchase day, by the level a license gives; a level that is
    absent (the shipped policy's `partner`) is supported without end."""

    days: Mapping[Level, int]

    def last_day(self, level: Level, purchase: date) -> date | None:
        """None: unlimited. A whole number of years of days (the shipped 365d) runs to the
        purchase anniversary, as SPEC 1.6's "1 year" does: a leap year costs no day, and a
        29 February purchase ends on 28 February. Any other period is counted in days."""
        days = self.days.get(level)
        if days is None:
            return None
        years, rest = divmod(days, DAYS_IN_A_YEAR)
        if rest == 0:
            return _years_after(purchase, years) - timedelta(days=1)
        return purchase + timedelta(days=days - 1)


def support_periods(policy: Policy, origin: str = "policy") -> SupportPeriods:
    """The policy's support periods; a period that is not a whole number of days (at least
    one) is a PolicyError naming `origin` (the file) and the level, so a bad file stops the
    start."""
    days: dict[Level, int] = {}
    for level, target in policy.model.levels.items():
        if target.support_period is None:
            continue
        where = f"{origin}: levels.{level}.support_period"
        try:
            period = parse_duration(target.support_period)
        except ValueError as exc:
            raise PolicyError(f"{where}: {exc}") from None
        if period % timedelta(days=1) or period < timedelta(days=1):
            raise PolicyError(
                f"{where}: {target.support_period!r} must be whole days, at least one day "
                "(like 30d or 365d)"
            )
        days[level] = period.days
    return SupportPeriods(days)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def support_ends(lic: License, level: Level, periods: SupportPeriods) -> date | None:
    """The last day of support: None while the policy gives the license's level no period
    (partners, by default), else the recorded support end, else the level's period."""
    ends = periods.last_day(level, lic.purchase_date)
    if ends is None or lic.support_end is None:
        return ends
    return lic.support_end


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
    periods: SupportPeriods,
    claimed_edition: str | None = None,
) -> Entitled:
    """Registered sender -> the license's level; anyone else -> non_commercial, marked.
    Support lasts as long as `periods` (from the policy) give the license's level."""
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
    ends = support_ends(lic, level, periods)
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
    period = f"unlimited ({level})" if ends is None else f"until {ends}"
    return Entitled(level, "active", (why, f"support period {period}"))


def _level_for(lic: License) -> tuple[Level, str]:
    if lic.partner:
        return "partner", f"{lic.edition} partner license: partner"
    if lic.edition in VIP_EDITIONS:
        return "commercial_vip", f"{lic.edition} license: commercial_vip"
    if lic.edition in NON_COMMERCIAL_EDITIONS:
        return "non_commercial", f"{lic.edition} license: non_commercial"
    return "commercial", f"{lic.edition} commercial license: commercial"
