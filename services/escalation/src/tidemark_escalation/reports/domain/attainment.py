"""The SLA report's arithmetic. Pure: every instant, the zone and the obligations are
passed in. It implements the definition in docs/sla.md, "SLA attainment" (which obligations
count, met, breached, running, attainment, groups, weeks and hours in the report's zone,
response time by nearest rank, paused time); that section is the one place it is stated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from .obligations import ObligationRecord

Outcome = Literal["met", "breached", "running"]
GroupBy = Literal["level", "severity", "queue", "week"]
Kind = Literal["first_response", "next_response"]
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)
KINDS: tuple[Kind, ...] = get_args(Kind)
NO_SEVERITY = "none"
NO_QUEUE = "unknown"


def outcome(record: ObligationRecord, as_of: datetime) -> Outcome | None:
    """The obligation's state for the report; None when it has no deadline (not counted)."""
    deadline = record.deadline
    if deadline is None:
        return None
    if record.met_at is not None and record.met_at <= deadline:
        return "met"
    if record.breached_at is not None or deadline <= as_of:
        return "breached"
    return "running"


def nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The smallest value with at least `share` of the values at or below it; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    running: int = 0
    paused_seconds: float = 0.0
    response_seconds: list[float] = field(default_factory=list)

    @property
    def obligations(self) -> int:
        return self.met + self.breached + self.running

    @property
    def attainment(self) -> float | None:
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None

    @property
    def median_response_seconds(self) -> float | None:
        return nearest_rank(self.response_seconds, 0.5)

    @property
    def p90_response_seconds(self) -> float | None:
        return nearest_rank(self.response_seconds, 0.9)

    def add(self, record: ObligationRecord, state: Outcome) -> None:
        if state == "met":
            self.met += 1
        elif state == "breached":
            self.breached += 1
        else:
            self.running += 1
        self.paused_seconds += record.paused_seconds
        if record.met_at is not None:
            self.response_seconds.append(
                max(0.0, (record.met_at - record.started_at).total_seconds())
            )


@dataclass(frozen=True)
class Row:
    """One line of the report's table: the tally of one obligation kind for one group
    (a level, severity, queue or week, as the report is grouped by)."""

    kind: Kind
    group: str
    tally: Tally


@dataclass(frozen=True)
class LevelWeek:
    """One cell of the level-by-week chart: the tally of one obligation kind at one
    level in one week (named by its Monday in the report's zone)."""

    kind: Kind
    level: str
    week: str
    tally: Tally


@dataclass(frozen=True)
class SlaReport:
    start: datetime
    end: datetime
    as_of: datetime
    zone: ZoneInfo
    group_by: GroupBy
    totals: dict[Kind, Tally]
    rows: list[Row]  # by kind, then group name
    breaches_by_hour: dict[Kind, list[int]]  # 24 counts each, hours of day in `zone`
    level_weeks: list[LevelWeek]  # attainment per level per week (the board's chart)


def week_of(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def group_key(record: ObligationRecord, group_by: GroupBy, zone: ZoneInfo) -> str:
    if group_by == "level":
        return record.level
    if group_by == "severity":
        return record.severity or NO_SEVERITY
    if group_by == "queue":
        return record.queue or NO_QUEUE
    assert record.deadline is not None
    return week_of(record.deadline, zone)


def _kind(record: ObligationRecord) -> Kind | None:
    return record.kind if record.kind in KINDS else None


def build_report(
    records: Iterable[ObligationRecord],
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    zone: ZoneInfo,
    group_by: GroupBy,
) -> SlaReport:
    totals: dict[Kind, Tally] = {k: Tally() for k in KINDS}
    groups: dict[tuple[Kind, str], Tally] = {}
    level_weeks: dict[tuple[Kind, str, str], Tally] = {}
    by_hour: dict[Kind, list[int]] = {k: [0] * 24 for k in KINDS}
    for record in records:
        kind, deadline = _kind(record), record.deadline
        if kind is None or deadline is None or not start <= deadline < end:
            continue
        state = outcome(record, as_of)
        assert state is not None
        totals[kind].add(record, state)
        key = group_key(record, group_by, zone)
        groups.setdefault((kind, key), Tally()).add(record, state)
        week = week_of(deadline, zone)
        level_weeks.setdefault((kind, record.level, week), Tally()).add(record, state)
        if state == "breached":
            by_hour[kind][deadline.astimezone(zone).hour] += 1
    return SlaReport(
        start=start,
        end=end,
        as_of=as_of,
        zone=zone,
        group_by=group_by,
        totals=totals,
        rows=[Row(k, g, t) for (k, g), t in sorted(groups.items())],
        breaches_by_hour=by_hour,
        level_weeks=[LevelWeek(k, lv, w, t) for (k, lv, w), t in sorted(level_weeks.items())],
    )
