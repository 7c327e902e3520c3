"""Staff override of a classification (SPEC 3.1 reclassify, 1.5 re-classification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tidekit.events.classifier import TicketReclassified
from tidekit.events.vocabulary import Level, Severity

from .entitlement import COMMERCIAL_LEVELS


class ReclassifyRefused(ValueError):
    """The override is not allowed; the message says why (answered as a 422)."""


@dataclass(frozen=True)
class Current:
    tid: str
    level: Level
    severity: Severity | None


def reclassify(
    current: Current,
    *,
    level: Level | None,
    severity: Severity | None,
    clear_severity: bool = False,
    reason: str,
    staff_id: str,
    policy_version: str,
    now: datetime,
) -> TicketReclassified | None:
    """The new level and/or severity, or None when nothing changes (a repeated override)."""
    if level is None and severity is None and not clear_severity:
        raise ReclassifyRefused("give a new level, a new severity, or both")
    if not reason.strip():
        raise ReclassifyRefused("a reason is required")
    new_level = level or current.level
    new_severity = None if clear_severity else (severity or current.severity)
    reasons = [f"staff override by {staff_id}: {reason.strip()}"]
    if new_level not in COMMERCIAL_LEVELS:
        if severity is not None:
            raise ReclassifyRefused(
                f"{new_level} has no severity targets: severity applies only to "
                "vip_request, partner, commercial_vip and commercial"
            )
        if new_severity is not None:
            reasons.append(f"severity dropped: {new_level} has no severity targets")
        new_severity = None
    if (new_level, new_severity) == (current.level, current.severity):
        return None
    if new_level != current.level:
        reasons.append(f"level {current.level} -> {new_level}")
    if new_severity != current.severity:
        reasons.append(f"severity {current.severity} -> {new_severity}")
    return TicketReclassified(
        tid=current.tid,
        level=new_level,
        severity=new_severity,
        previous_level=current.level,
        previous_severity=current.severity,
        reason=reason.strip(),
        reclassified_by=staff_id,
        policy_version=policy_version,
        reclassified_at=now,
        reasons=tuple(reasons),
    )
