"""The classifier's pure decisions: entitlement and level from the directory, severity.

Every decision carries the human-readable reasons (which rule fired) staff will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tidekit.events.classifier import TicketClassified
from tidekit.events.intake import TicketSubmitted
from tidekit.events.vocabulary import Entitlement, Level, Severity

COMMERCIAL_LEVELS: frozenset[Level] = frozenset(
    {"vip_request", "partner", "commercial_vip", "commercial"}
)
NON_COMMERCIAL_EDITIONS = frozenset({"non_commercial", "demo"})
VIP_EDITIONS = frozenset({"premium", "ultimate"})


@dataclass(frozen=True)
class License:
    license_key: str
    edition: str
    owner: str
    emails: frozenset[str]
    partner: bool
    purchase_date: date
    support_end: date | None

    def registers(self, email: str) -> bool:
        return email.lower() in self.emails

    def support_ends(self) -> date | None:
        """Partners: unlimited; non-commercial: 30 days; commercial: 1 year (or as recorded)."""
        if self.partner:
            return None
        if self.support_end is not None:
            return self.support_end
        days = 30 if self.edition in NON_COMMERCIAL_EDITIONS else 365
        return self.purchase_date + timedelta(days=days)


@dataclass(frozen=True)
class Entitled:
    level: Level
    entitlement: Entitlement
    reasons: tuple[str, ...]


def entitlement_for(
    email: str, license_key: str | None, lic: License | None, today: date
) -> Entitled:
    if license_key is None:
        return Entitled(
            "non_commercial", "unregistered_sender", ("no license key given: non_commercial",)
        )
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
    ends = lic.support_ends()
    if ends is not None and today > ends:
        return Entitled(
            level,
            "expired",
            (
                why,
                f"support period of license {license_key} ended on {ends}: "
                "no response clock; the customer is told how to renew",
            ),
        )
    return Entitled(level, "active", (why,))


def _level_for(lic: License) -> tuple[Level, str]:
    if lic.partner:
        return "partner", "partner license"
    if lic.edition in VIP_EDITIONS:
        return "commercial_vip", f"{lic.edition} license, no coupon"
    if lic.edition in NON_COMMERCIAL_EDITIONS:
        return "non_commercial", f"{lic.edition} license"
    return "commercial", f"{lic.edition} commercial license"


def classify(
    submitted: TicketSubmitted, lic: License | None, policy_version: str, now: datetime
) -> TicketClassified:
    entitled = entitlement_for(submitted.requester.email, submitted.license_key, lic, now.date())
    reasons = list(entitled.reasons)
    severity: Severity | None = None
    if entitled.level in COMMERCIAL_LEVELS and submitted.severity_hint is not None:
        severity = submitted.severity_hint
        reasons.append(f"severity {severity} from the requester's hint")
    elif submitted.severity_hint is not None:
        reasons.append(f"severity hint ignored: {entitled.level} has no severity targets")
    return TicketClassified(
        tid=submitted.tid,
        level=entitled.level,
        severity=severity,
        category="other",
        in_scope=True,
        entitlement=entitled.entitlement,
        urgent=False,
        license_key=submitted.license_key,
        policy_version=policy_version,
        reasons=tuple(reasons),
        submitted_at=submitted.submitted_at,
        classified_at=now,
    )
