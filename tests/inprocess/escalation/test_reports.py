"""The SLA report in process: escalation folds the sla-timer's events into its report table
in the consumer's transaction, and `GET /v1/reports/sla` counts exactly what
examples/sla_attainment.py counts on the same events (docs/sla.md, "SLA attainment")."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.integration.test_attainment_example import as_pairs, at, example, history
from tests.unit.escalation.factories import classified
from tidemark_devstack.common import free_port
from tidemark_escalation.reports import cli

from .conftest import Escalation, StartEscalation

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


async def get_report(esc: Escalation, **params: str) -> dict[str, Any]:
    r = await esc.http.get("/v1/reports/sla", params={**NOVEMBER, **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@asynccontextmanager
async def served(esc: Escalation) -> AsyncIterator[str]:
    """The same app on a real local port (uvicorn in this event loop, no lifespan), for a
    console script that speaks HTTP; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(esc.app, host="127.0.0.1", port=port, lifespan="off",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def run(*command: str) -> tuple[int, bytes, str]:
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out, err.decode()


async def test_the_report_counts_what_the_example_counts_on_the_same_events(
    start_escalation: StartEscalation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    esc = await start_escalation(at(29))  # the clock only goes forward: 29th first
    # TID-2 and TID-3 wait in tier 1 before their clocks start; the others are never queued.
    await esc.deliver(
        *(classified(t, entitlement="expired", submitted_at=at(1)) for t in ("TID-2", "TID-3"))
    )
    assert {t["tid"] for t in await esc.queue("tier1")} == {"TID-2", "TID-3"}
    events = history()
    await esc.deliver(*events)

    ex = example()
    obligations = ex.fold(as_pairs(events))
    start, end = ex.month_bounds("2026-11")
    # On the 29th, TID-9's deadline (the 30th) has not passed: running, left out.
    during = await get_report(esc)
    assert by_level(during) == ex.attainment(obligations, start, end, now=at(29)).as_json()
    assert during["totals"]["first_response"]["running"] == 1

    esc.clock.set(at(5, month=12))
    report = await get_report(esc)
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
    grouped = await get_report(esc, group_by="queue")
    queues = {(g["kind"], g["group"]): g for g in grouped["groups"]}
    assert queues[("first_response", "tier1")]["breached"] == 2  # TID-2 and TID-3
    assert queues[("first_response", "unknown")]["obligations"] == 3  # TID-1, TID-7, TID-9

    # The same rows as CSV, and the page with its charts.
    r = await esc.http.get("/v1/reports/sla", params=NOVEMBER, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(r.text)))
    page = await esc.http.get("/v1/reports/sla/page", params=NOVEMBER)
    total = next(x for x in lines if (x["kind"], x["group"]) == ("first_response", "total"))
    assert (total["met"], total["breached"], total["running"]) == ("2", "3", "0")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count('<svg role="img"') == 3 and "Breaches by hour of day" in page.text

    # tidemark-report (the console script) writes the same CSV; a refusal says why.
    key_file = tmp_path / "staff.key"
    key_file.write_text(esc.http.headers["X-Api-Key"] + "\n")
    async with served(esc) as url:
        command = [str(Path(sys.executable).parent / "tidemark-report"), "sla", "--url", url,
                   "--key-file", str(key_file), "--from", "2026-11-01", "--to", "2026-12-01",
                   "--tz", "UTC"]  # fmt: skip
        code, out, err = await run(*command)
        assert (code, out) == (0, r.content), err
        # The refusal through the same code without a second interpreter's start (seconds
        # on a busy machine); in a thread, so this loop keeps serving the request.
        code = await asyncio.to_thread(cli.main, [*command[1:], "--tz", "Nowhere/Else"])
    assert code == 2
    assert "422: tz: unknown time zone 'Nowhere/Else'" in capsys.readouterr().err


async def test_bad_parameters_are_problems_that_say_what_is_wrong(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(at(5, month=12))
    for params, says in [
        ({"tz": "Mars/Olympus"}, "tz: unknown time zone 'Mars/Olympus'"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "to: must be later than from"),
        ({"from": "soon"}, "from: 'soon' is not a date"),
    ]:
        r = await esc.http.get("/v1/reports/sla", params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert says in r.json()["detail"]
    r = await esc.http.get("/v1/reports/sla", params={"group_by": "colour"})
    assert r.status_code == 422 and "group_by" in r.json()["detail"]
    r = await esc.http.get("/v1/reports/sla/page", params={"tz": "Nowhere"})
    assert r.status_code == 422
    anonymous = await esc.http.get("/v1/reports/sla", headers={"X-Api-Key": ""})
    assert anonymous.status_code == 401
