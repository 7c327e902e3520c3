"""The benchmark's measuring tools: a failed request is a figure, and figures reach JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench import __main__ as bench_cli
from tests.bench import report
from tests.bench.ack_latency import TimingSink, ack_latencies
from tests.bench.load import read_wrk
from tidemark_devstack.common import free_port


def test_paced_client_counts_refused_connections_instead_of_raising() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every POST fails

    lat = ack_latencies(nobody, TimingSink(), {"X-Api-Key": "k"}, count=5, rate=500.0, wait=1.0)

    assert lat["failed"] == 5
    assert lat["failures"] == {"ConnectError": 5}
    assert lat["acknowledged"] == 0
    assert lat["p99_ms"] is None


def test_report_writes_section_figure_value_json(tmp_path: Path) -> None:
    report.clear()
    report.figure("intake", "bare_rps", 1234.5)
    report.figure("intake", "ratio", 0.42)
    report.figure("ack_latency", "failed", 0)

    report.write(tmp_path / "run.json")

    assert json.loads((tmp_path / "run.json").read_text()) == {
        "ack_latency": {"failed": 0},
        "intake": {"bare_rps": 1234.5, "ratio": 0.42},
    }


def test_cli_writes_json_with_load_average_and_each_sections_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        bench_cli,
        "SECTIONS",
        ["tests.unit.bench.printing_section", "tests.unit.bench.returning_section"],
    )

    status = bench_cli.main(["--json", str(tmp_path / "run.json")])

    written = json.loads((tmp_path / "run.json").read_text())
    assert status == 0
    assert "figure one:   12 req/s" in capsys.readouterr().out  # the tables still print
    assert written["printing_section"] == {
        "table_lines": ["== a table ==", "figure one:   12 req/s"]
    }
    assert written["returning_section"] == {"end_to_end": 40.0}
    assert len(written["run"]["load_average_start"]) == 3
    assert len(written["run"]["load_average_end"]) == 3


WRK_RAN = """Running 1s test @ http://127.0.0.1:18999/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.32ms    0.87ms   6.20ms   69.26%
    Req/Sec   848.00     28.05     0.90k    60.00%
  844 requests in 1.00s, 3.57MB read
Requests/sec:    842.65
Transfer/sec:      3.57MB
non2xx=3 socket=1
"""


def test_a_wrk_run_is_read_into_figures() -> None:
    run = read_wrk(0, WRK_RAN, "")
    assert (run.rps, run.requests, run.non_2xx, run.socket_errors, run.error) == (
        842.65,
        844,
        3,
        1,
        "",
    )


def test_a_run_wrk_could_not_make_is_a_figure_not_a_traceback() -> None:
    # What wrk 4 prints, and its exit code, when nothing listens on the port.
    run = read_wrk(1, "", "unable to connect to 127.0.0.1:1 Connection refused\n")
    assert (run.rps, run.requests) == (0.0, 0)
    assert run.error == "wrk exited 1: unable to connect to 127.0.0.1:1 Connection refused"
