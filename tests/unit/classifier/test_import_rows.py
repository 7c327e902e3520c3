"""Bulk-import parsing: every rejected row reported with its line number."""

from __future__ import annotations

from tidemark_classifier.import_rows import Accepted, Rejected, format_for, parse

CSV = """license_key,edition,owner,emails,group_emails,partner,purchase_date,support_end
LIC-1,premium,Hopper Ltd,ada@example.com;bob@example.com,,no,2026-03-01,
LIC-2,gold,Nobody,x@example.com,,no,2026-03-01,

LIC-3,business,"Multi
line owner",c@example.com,ops@example.com team@example.com,yes,2026-01-01,2027-06-30
LIC-4,start,Short,d@example.com
LIC-5,start,Bad date,e@example.com,,no,2026-02-30,
LIC-1,start,Duplicate,f@example.com,,no,2026-01-01,
LIC-6,start,Bad partner,g@example.com,,maybe,2026-01-01,
"""


def test_csv_rows_are_validated_and_rejects_named_by_line() -> None:
    results = list(parse(CSV.splitlines(), "csv"))
    accepted = {r.row.license_key: r.line for r in results if isinstance(r, Accepted)}
    rejected = {r.line: r.error for r in results if isinstance(r, Rejected)}
    assert accepted == {"LIC-1": 2, "LIC-3": 6}
    assert set(rejected) == {3, 7, 8, 9, 10}
    assert "edition" in rejected[3]
    assert "9 fields" not in rejected[7] and "4 fields" in rejected[7]
    assert "purchase_date" in rejected[8]
    assert "already on line 2" in rejected[9]
    assert "partner" in rejected[10]
    lic3 = next(r.row for r in results if isinstance(r, Accepted) and r.line == 6)
    assert lic3.partner and [str(e) for e in lic3.group_emails] == [
        "ops@example.com",
        "team@example.com",
    ]


def test_a_bad_header_stops_the_file() -> None:
    results = list(parse(["key,edition", "LIC-1,start"], "csv"))
    assert (
        results
        == [
            Rejected(1, results[0].error)  # type: ignore[union-attr]
        ]
        and "unknown columns ['key']" in results[0].error
    )  # type: ignore[union-attr]


def test_json_lines() -> None:
    lines = [
        '{"license_key": "LIC-1", "edition": "ultimate", "owner": "A", '
        '"purchase_date": "2026-01-01", "emails": ["a@example.com"], "coupon_allowance": 8}',
        "",
        "{not json",
        "[1, 2]",
        '{"license_key": "bad key", "edition": "start", "owner": "B", '
        '"purchase_date": "2026-01-01"}',
        '{"license_key": "LIC-2", "edition": "start", "owner": "C", "purchase_date": "2026-01-01",'
        ' "colour": "red"}',
    ]
    results = list(parse(lines, "jsonl"))
    assert [type(r).__name__ for r in results] == [
        "Accepted",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",
    ]
    assert [r.line for r in results] == [1, 3, 4, 5, 6]
    first = results[0]
    assert isinstance(first, Accepted) and first.row.coupon_allowance == 8
    errors = [r.error for r in results if isinstance(r, Rejected)]
    assert "not JSON" in errors[0] and "not a JSON object" in errors[1]
    assert "license_key" in errors[2] and "colour" in errors[3]


def test_format_from_the_file_name() -> None:
    assert format_for("x.CSV") == "csv" and format_for("a.jsonl") == "jsonl"
    assert format_for("a.ndjson") == "jsonl" and format_for("a.txt") is None
