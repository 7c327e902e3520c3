"""`GET /v1/reports/sla` (JSON, or CSV with `Accept: text/csv`) and its page (staff)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from tidekit.web.problems import Problem
from tidekit.web.staff import KEYED_ROUTE_RESPONSES

from ..deps import Service, Staff
from ..service import EscalationService
from .domain.attainment import GroupBy, SlaReport, build_report
from .formats import SlaReportOut, report_csv
from .page import report_document_html
from .params import BadParameter, read_period
from .store import obligations_due

router = APIRouter(prefix="/v1/reports", responses=KEYED_ROUTE_RESPONSES, tags=["reports"])
CSV = "text/csv"

From = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=40,
        description="start (included): a date, a local time (in tz) or an RFC 3339 instant; "
        "default: the first of the current month in tz",
    ),
]
To = Annotated[
    str | None,
    Query(max_length=40, description="end (excluded), as `from`; default: a month after from"),
]
GroupByQuery = Annotated[GroupBy, Query(description="how the rows are grouped")]
Tz = Annotated[
    str | None,
    Query(max_length=64, description="IANA zone for dates, weeks and hours; default: policy's"),
]


@dataclass(frozen=True)
class ReportQuery:
    """The report's query parameters as the caller wrote them (`start` is `from`);
    sla_report_for reads and checks them."""

    start: str | None
    to: str | None
    group_by: GroupBy
    tz: str | None


def _report_query(
    start: From = None, to: To = None, group_by: GroupByQuery = "level", tz: Tz = None
) -> ReportQuery:
    return ReportQuery(start, to, group_by, tz)


ReportQueryParams = Annotated[ReportQuery, Depends(_report_query)]


async def _report(
    request: Request, service: Service, query: ReportQueryParams, _staff: Staff
) -> SlaReport:
    """The report the query asks for (a dependency both routes share; staff only)."""
    return await sla_report_for(request, service, query)


async def sla_report_for(
    request: Request, service: EscalationService, query: ReportQuery
) -> SlaReport:
    """The report for these query values, with no access check of its own: for a page
    that checks access its own way (the board's session) before it calls this. Bad
    values raise a 422 Problem."""
    now = service.runtime.clock.now()
    zone_name = query.tz or request.app.state.report_zone
    try:
        period = read_period(query.start, query.to, zone_name, now)
    except BadParameter as exc:
        raise Problem(422, "Invalid report parameters", str(exc)) from exc
    records = await obligations_due(service.runtime.require_pool(), period.start, period.end)
    return build_report(
        records,
        start=period.start,
        end=period.end,
        as_of=now,
        zone=period.zone,
        group_by=query.group_by,
    )


Report = Annotated[SlaReport, Depends(_report)]


@router.get(
    "/sla",
    response_model=SlaReportOut,
    response_model_by_alias=True,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def sla_report(request: Request, report: Report) -> Any:
    """SLA attainment of the obligations whose deadline falls in [from, to), first and next
    response apart, grouped by level, severity, queue or week (staff). The definition is
    docs/sla.md, "SLA attainment". `Accept: text/csv` gives the rows as CSV."""
    if CSV in request.headers.get("accept", ""):
        return Response(
            report_csv(report),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="sla-report.csv"'},
        )
    return SlaReportOut.of(report)


@router.get(
    "/sla/page",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def sla_report_page(report: Report) -> HTMLResponse:
    """The same report as an HTML page with charts (staff); the board shows it too."""
    return HTMLResponse(report_document_html(report))
