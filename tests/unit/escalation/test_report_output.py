"""The report's parameters, its CSV and its HTML page (pure)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tidekit.sla import load_policy
from tidemark_escalation.reports.formats import SlaReportOut, report_csv
from tidemark_escalation.reports.page import report_document_html, report_page_html
from tidemark_escalation.reports.params import BadParameter, default_zone, read_period

from .test_report_arithmetic import CASES, at, report

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def test_the_period_defaults_to_the_current_month_in_the_zone() -> None:
    p = read_period(None, None, "UTC", NOW)
    assert (p.start, p.end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    berlin = read_period(None, None, "Europe/Berlin", datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert berlin.start.isoformat() == "2026-12-01T00:00:00+01:00"  # already December there
    assert berlin.end.isoformat() == "2027-01-01T00:00:00+01:00"


def test_dates_and_local_times_are_in_the_zone_and_instants_keep_their_offset() -> None:
    p = read_period("2026-11-02", "2026-11-09T06:00", "Europe/Berlin", NOW)
    assert p.start.isoformat() == "2026-11-02T00:00:00+01:00"
    assert p.end.isoformat() == "2026-11-09T06:00:00+01:00"
    p = read_period("2026-11-02T00:00:00Z", "2026-11-03T00:00:00+05:30", "UTC", NOW)
    assert p.start == datetime(2026, 11, 2, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 2, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "tz", "says"),
    [
        ("yesterday", None, "UTC", "from: 'yesterday' is not a date"),
        ("2026-11-02", "2026-13-01", "UTC", "to: '2026-13-01' is not a date"),
        ("2026-11-02", "2026-11-02", "UTC", "to: must be later than from"),
        ("2026-11-02", None, "Mars/Olympus", "tz: unknown time zone 'Mars/Olympus'"),
        (None, None, "../etc/passwd", "tz: '../etc/passwd' is not an IANA time zone name"),
        ("2000-01-01", "2026-01-01", "UTC", "to: the period may be at most 3660 days"),
        ("0001-01-01", None, "UTC", "from: '0001-01-01' is outside the years 1900-9000"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(
    start: str | None, end: str | None, tz: str, says: str
) -> None:
    with pytest.raises(BadParameter, match=re.escape(says)):
        read_period(start, end, tz, NOW)


def test_the_default_zone_is_the_business_days_calendar_s() -> None:
    assert default_zone(load_policy()) == "UTC"


def test_csv_has_a_line_per_kind_and_group_then_totals() -> None:
    lines = list(csv.DictReader(io.StringIO(report_csv(report(at(5, month=12))))))
    got = [(x["kind"], x["group"], x["met"], x["breached"], x["attainment"]) for x in lines]
    assert got == [
        ("first_response", "commercial", "1", "2", "0.3333"),
        ("first_response", "non_commercial", "0", "1", "0.0"),
        ("first_response", "partner", "1", "0", "1.0"),
        ("next_response", "commercial", "1", "0", "1.0"),
        ("first_response", "total", "2", "3", "0.4"),
        ("next_response", "total", "1", "0", "1.0"),
    ]
    total = lines[4]
    assert (total["median_response_seconds"], total["p90_response_seconds"]) == (
        "86400.0", "172800.0",
    )  # fmt: skip
    assert lines[3]["median_response_seconds"] == "21600.0"  # E: replied 6 h after its start


def test_json_names_the_period_and_the_definition() -> None:
    out = SlaReportOut.of(report(at(5, month=12))).model_dump(mode="json", by_alias=True)
    assert out["from"] == "2026-11-01T00:00:00Z" and out["tz"] == "UTC"
    assert out["definition"] == "docs/sla.md, section 'SLA attainment'"
    assert out["totals"]["first_response"]["attainment"] == 0.4
    assert len(out["breaches_by_hour"]["first_response"]) == 24


def test_the_page_is_self_contained_and_accessible() -> None:
    r = report(at(5, month=12))
    html = report_page_html(r)
    assert html.startswith('<section class="tm-report"') and html.endswith("</section>")
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert re.findall(r"(?:src|href)=", html) == []  # nothing fetched from anywhere
    charts = re.findall(r"<svg [^>]*>", html)
    assert len(charts) == 3  # attainment per level per week (first, next), breaches by hour
    for chart in charts:
        assert 'role="img"' in chart and "aria-labelledby=" in chart
    assert html.count("<title id=") == 3 and html.count("<desc id=") == 3
    assert html.count("<table>") == 4  # the groups, and one under each chart
    assert "commercial, week of 2026-11-09: 50.0 % (1 met of 2)" in html  # a bar's own title
    assert "3 breaches; by hour: 00:00 (1), 12:00 (2)" in html  # the breaches chart's desc
    assert "<script>" not in (html.replace("&lt;script&gt;", ""))


def test_names_are_escaped_and_the_document_is_complete() -> None:
    from dataclasses import replace

    odd = [replace(CASES[0], queue="<b>q&a</b>")]
    r = report(at(5, month=12), "queue", ZoneInfo("UTC"), odd)
    html = report_page_html(r)
    assert "<b>q&a</b>" not in html and "&lt;b&gt;q&amp;a&lt;/b&gt;" in html
    doc = report_document_html(r)
    assert doc.startswith("<!DOCTYPE html>") and '<html lang="en">' in doc
    assert 'name="viewport"' in doc and doc.endswith("</html>")
