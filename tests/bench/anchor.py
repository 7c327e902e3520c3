"""The reference chain (a hand-out kept outside the repository, ../shared/bench/
pipeline_anchor.py): the least a durable five-stage Kafka + Postgres pipeline costs on this
machine. It is never imported; it runs as its own process in the same run as the pipeline
benchmark, against the bench stack's Kafka and a fresh database of its own, so the
pipeline's figures can be printed as ratios to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fixtures.backends import create_fresh_database, drop_database
from tidemark_devstack.stack import Stack

REPO = Path(__file__).resolve().parents[2]
_RELATIVE = Path("shared") / "bench" / "pipeline_anchor.py"

# "anchor pipeline (4 durable hops + durable feed),    max: 20000 msgs in 21.3 s = 939/s;
#  latency p50 8000 ms p99 15000 ms max 16000 ms"
_LINE = re.compile(
    r"anchor pipeline .*?,\s*(?P<label>\S+): (?P<count>\d+) msgs in (?P<wall>[\d.]+) s = "
    r"(?P<per_s>[\d.]+)/s; latency p50 (?P<p50>[\d.]+) ms p99 (?P<p99>[\d.]+) ms"
)


def find_anchor() -> Path | None:
    """../shared/bench/pipeline_anchor.py from the checkout (a worktree one level deeper
    looks one more level up); TIDEMARK_BENCH_ANCHOR names it elsewhere. None: absent."""
    named = os.environ.get("TIDEMARK_BENCH_ANCHOR")
    candidates = [Path(named)] if named else [REPO.parent / _RELATIVE, REPO.parents[1] / _RELATIVE]
    return next((path for path in candidates if path.is_file()), None)


def run_anchor(
    script: Path, stack: Stack, stop_after: str | None = None, limit: float = 420.0
) -> dict[str, dict[str, float]]:
    """Run the anchor on the stack's Kafka and a fresh database; label ("max", "100/s", …)
    -> its figures. `stop_after` ends it (SIGINT, which it handles by stopping its stage
    processes) once that label's line printed, to keep a quick run short."""
    admin_url = stack.postgres.url("postgres")
    database_url = create_fresh_database(admin_url, prefix="anchor")  # dropped after the run
    env = {
        **os.environ,
        "TIDEMARK_KAFKA_BOOTSTRAP": f"127.0.0.1:{stack.ports.kafka}",
        "TIDEMARK_DATABASE_URL": database_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-u", str(script)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its stage processes form one group we can end together
    )
    found: dict[str, dict[str, float]] = {}
    deadline = time.monotonic() + limit
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"  [anchor] {line.rstrip()}", flush=True)
            match = _LINE.search(line)
            if match:
                found[match["label"]] = {
                    "count": int(match["count"]),
                    "wall_s": float(match["wall"]),
                    "per_s": float(match["per_s"]),
                    "p50_ms": float(match["p50"]),
                    "p99_ms": float(match["p99"]),
                }
                if match["label"] == stop_after:
                    break
            if time.monotonic() > deadline:
                print(f"  [anchor] stopped after {limit:.0f} s", flush=True)
                break
    finally:
        _end(proc)
        drop_database(admin_url, database_url)
    return found


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):  # then killed below
            proc.wait(20)
    # whatever of its group is left (the stage processes), by its group id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def anchor_figures(
    script: Path | None, stack: Stack, quick: bool
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """(figures for the report, label -> anchor figures); absent script: said, not raised."""
    if script is None:
        print(f"\n(anchor: ../{_RELATIVE} is not on this machine: no ratio to the reference chain)")
        return {"present": False}, {}
    print(f"\n== reference chain: {script} (its own process, same Kafka, fresh database) ==")
    runs = run_anchor(script, stack, stop_after="100/s" if quick else None)
    flat: dict[str, Any] = {"present": True, "script": str(script)}
    for label, values in runs.items():
        slug = "max" if label == "max" else f"at_{label.replace('/s', '')}_per_s"
        for name, value in values.items():
            flat[f"{slug}_{name}"] = value
    return flat, runs
