"""The report as JSON-ready models and as CSV text. Pure."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from pydantic import BaseModel, Field

from .domain.attainment import GroupBy, Kind, SlaReport, Tally

DEFINITION = "docs/sla.md, section 'SLA attainment'"
TOTAL = "total"


class TallyOut(BaseModel):
    obligations: int = Field(description="met + breached + running")
    met: int
    breached: int
    running: int = Field(description="not decided yet: left out of attainment")
    attainment: float | None = Field(description="met / (met + breached), 4 places")
    paused_seconds: float = Field(description="real seconds these obligations spent on hold")
    responses: int = Field(description="obligations with a reply (late ones too)")
    median_response_seconds: float | None = Field(
        description="start to reply (for first_response: time to first response), nearest rank"
    )
    p90_response_seconds: float | None

    @classmethod
    def of(cls, t: Tally) -> TallyOut:
        return cls(
            obligations=t.obligations,
            met=t.met,
            breached=t.breached,
            running=t.running,
            attainment=t.attainment,
            paused_seconds=round(t.paused_seconds, 3),
            responses=len(t.response_seconds),
            median_response_seconds=t.median_response_seconds,
            p90_response_seconds=t.p90_response_seconds,
        )


class GroupOut(TallyOut):
    kind: Kind
    group: str


class LevelWeekOut(TallyOut):
    kind: Kind
    level: str
    week: str = Field(description="the Monday the week starts on, in the report's zone")


class SlaReportOut(BaseModel):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    tz: str
    as_of: datetime = Field(description="by the service clock: decides what is overdue")
    group_by: GroupBy
    definition: str
    totals: dict[Kind, TallyOut]
    groups: list[GroupOut]
    breaches_by_hour: dict[Kind, list[int]] = Field(
        description="24 counts: breaches by the hour of day of their deadline in tz"
    )
    attainment_by_level_week: list[LevelWeekOut]

    model_config = {"populate_by_name": True}

    @classmethod
    def of(cls, r: SlaReport) -> SlaReportOut:
        return cls(
            from_=r.start,
            to=r.end,
            tz=r.zone.key,
            as_of=r.as_of,
            group_by=r.group_by,
            definition=DEFINITION,
            totals={k: TallyOut.of(t) for k, t in r.totals.items()},
            groups=[
                GroupOut(kind=row.kind, group=row.group, **TallyOut.of(row.tally).model_dump())
                for row in r.rows
            ],
            breaches_by_hour=r.breaches_by_hour,
            attainment_by_level_week=[
                LevelWeekOut(
                    kind=lw.kind, level=lw.level, week=lw.week, **TallyOut.of(lw.tally).model_dump()
                )
                for lw in r.level_weeks
            ],
        )


CSV_FIELDS = ["kind", "group_by", "group", *TallyOut.model_fields]


def report_csv(report: SlaReport) -> str:
    """One line per kind and group, then one `total` line per kind."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    lines = [(row.kind, row.group, row.tally) for row in report.rows]
    lines += [(kind, TOTAL, tally) for kind, tally in report.totals.items()]
    for kind, group, tally in lines:
        values = TallyOut.of(tally).model_dump()
        writer.writerow(
            {
                "kind": kind,
                "group_by": report.group_by,
                "group": group,
                **{k: "" if v is None else v for k, v in values.items()},
            }
        )
    return out.getvalue()
