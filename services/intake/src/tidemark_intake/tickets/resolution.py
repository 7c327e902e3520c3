"""How long a ticket took to resolve (SPEC 1.5: no commitment, but recorded for analytics).

Pure: the ticket's own history (lifecycle.TicketState), the instant of the resolution and the
calendar to count business time on come in; ticket.resolved carries what comes out. See
docs/sla.md, "Resolution time".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import tidekit.sla as sla
from tidekit.events.vocabulary import Level, Severity

# The level the SLA rules give a sender nothing is known about (no license, not classified):
# a ticket resolved before the classifier has spoken counts on that level's calendar.
UNCLASSIFIED_LEVEL: Level = "non_commercial"


@dataclass(frozen=True)
class ResolutionTime:
    seconds: int  # real time from submission to the resolution, re-open cycles included
    business_seconds: int  # the same span on the governing level target's calendar
    on_hold_seconds: int  # real time spent on_hold within the span


def calendar_for(
    policy: sla.Policy, level: Level | None, severity: Severity | None
) -> sla.Calendar:
    """The calendar of the ticket's governing target (its shortest leg's, as the SLA rules
    show it), or the unclassified level's."""
    return sla.target_for(policy, level or UNCLASSIFIED_LEVEL, severity).calendar


def _seconds(span: timedelta) -> int:
    return int(max(span, timedelta(0)).total_seconds())


def measure(
    submitted_at: datetime,
    resolved_at: datetime,
    on_hold_before: timedelta,
    on_hold_since: datetime | None,
    calendar: sla.Calendar,
) -> ResolutionTime:
    """`on_hold_before`: the holds already over; `on_hold_since`: the start of the one still
    running at the resolution (resolving straight from on_hold ends it)."""
    held = on_hold_before + (resolved_at - on_hold_since if on_hold_since else timedelta(0))
    return ResolutionTime(
        seconds=_seconds(resolved_at - submitted_at),
        business_seconds=_seconds(sla.elapsed(calendar, submitted_at, resolved_at)),
        on_hold_seconds=_seconds(held),
    )
