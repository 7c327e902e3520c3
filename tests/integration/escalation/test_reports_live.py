"""The SLA report over real Kafka and Postgres: escalation folds the sla-timer's events into
its report table in the consumer's transaction, and `GET /v1/reports/sla` counts exactly
what examples/sla_attainment.py counts on the same events (docs/sla.md, "SLA attainment")."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_attainment_example import as_pairs, at, example, history
from tests.unit.escalation.factories import classified

from .conftest import Escalation, poll

pytestmark = pytest.mark.integration
NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01", "tz": "UTC"}


def by_level(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The report's rows in the example's shape: level -> kind -> counts."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in report["groups"]:
        out.setdefault(row["group"], {})[row["kind"]] = {
            k: row[k] for k in ("met", "breached", "running", "attainment")
        }
    return out


def get_report(esc: Escalation, **params: str) -> dict[str, Any]:
    with esc.client() as c:
        r = c.get("/v1/reports/sla", params={**NOVEMBER, **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_report_counts_what_the_example_counts_on_the_same_events(
    start_escalation: Any, tmp_path: Path
) -> None:
    esc: Escalation = start_escalation(at(29))  # the clock only goes forward: 29th first
    # TID-2 and TID-3 wait in tier 1 before their clocks start; the others are never queued.
    esc.publish(
        "classifier",
        *(classified(t, entitlement="expired", submitted_at=at(1)) for t in ("TID-2", "TID-3")),
    )
    poll(lambda: {t["tid"] for t in esc.queue("tier1")}, lambda got: got >= {"TID-2", "TID-3"})
    events = history()
    esc.publish("sla-timer", *events)
    esc.wait_caught_up()

    ex = example()
    obligations = ex.fold(as_pairs(events))
    start, end = ex.month_bounds("2026-11")
    # On the 29th, TID-9's deadline (the 30th) has not passed: running, left out.
    during = get_report(esc)
    assert by_level(during) == ex.attainment(obligations, start, end, now=at(29)).as_json()
    assert during["totals"]["first_response"]["running"] == 1

    esc.set_clock(at(5, month=12))
    report = get_report(esc)
    assert by_level(report) == ex.attainment(obligations, start, end, now=at(5, month=12)).as_json()
    first = report["totals"]["first_response"]
    assert (first["met"], first["breached"], first["running"], first["attainment"]) == (
        2, 3, 0, 0.4,
    )  # fmt: skip  # TID-1 and TID-7 met; TID-2 (late reply), TID-3 and TID-9 breached
    # TID-1 replied on the 9th 12:00, TID-2 on the 13th, TID-7 on the 17th; all started 1st 12:00
    assert first["responses"] == 3
    assert first["median_response_seconds"] == 12 * 86400  # nearest rank: the 2nd of 8, 12, 16 d
    assert report["breaches_by_hour"]["first_response"][12] == 3  # all due at 12:00 UTC

    # The queue a breach is charged to is the one the ticket waited in when it breached
    # (escalation may move it on the breach); never-queued tickets are "unknown".
    queues = {(g["kind"], g["group"]): g for g in get_report(esc, group_by="queue")["groups"]}
    assert queues[("first_response", "tier1")]["breached"] == 2  # TID-2 and TID-3
    assert queues[("first_response", "unknown")]["obligations"] == 3  # TID-1, TID-7, TID-9

    # The same rows as CSV, and the page with its charts.
    with esc.client() as c:
        r = c.get("/v1/reports/sla", params=NOVEMBER, headers={"Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(r.text)))
        page = c.get("/v1/reports/sla/page", params=NOVEMBER)
    total = next(x for x in lines if (x["kind"], x["group"]) == ("first_response", "total"))
    assert (total["met"], total["breached"], total["running"]) == ("2", "3", "0")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count('<svg role="img"') == 3 and "Breaches by hour of day" in page.text

    # tidemark-report (the console script) writes the same CSV; a refusal says why.
    key_file = tmp_path / "staff.key"
    key_file.write_text(esc.staff_key + "\n")
    command = [str(Path(sys.executable).parent / "tidemark-report"), "sla", "--url",
               esc.proc.url, "--key-file", str(key_file), "--from", "2026-11-01",
               "--to", "2026-12-01", "--tz", "UTC"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, r.content), done.stderr
    done = subprocess.run([*command, "--tz", "Nowhere/Else"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "422: tz: unknown time zone 'Nowhere/Else'" in done.stderr


def test_bad_parameters_are_problems_that_say_what_is_wrong(start_escalation: Any) -> None:
    esc: Escalation = start_escalation(at(5, month=12))
    with esc.client() as c:
        for params, says in [
            ({"tz": "Mars/Olympus"}, "tz: unknown time zone 'Mars/Olympus'"),
            ({"from": "2026-12-01", "to": "2026-11-01"}, "to: must be later than from"),
            ({"from": "soon"}, "from: 'soon' is not a date"),
        ]:
            r = c.get("/v1/reports/sla", params=params)
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert says in r.json()["detail"]
        r = c.get("/v1/reports/sla", params={"group_by": "colour"})
        assert r.status_code == 422 and "group_by" in r.json()["detail"]
        r = c.get("/v1/reports/sla/page", params={"tz": "Nowhere"})
        assert r.status_code == 422
    with esc.client(anonymous=True) as c:
        assert c.get("/v1/reports/sla").status_code == 401
