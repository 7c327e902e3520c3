"""Intake benchmarks, side by side in one run on this machine (loopback only):

(a) requests/s of a bare FastAPI + pydantic POST endpoint that does no I/O,
(b) requests/s of POST /v1/tickets with the durable commit, and their ratio,
(c) latency from POST to the acknowledgement e-mail over real SMTP, p50/p99, for 1,000
    tickets sent at 200/s through all five services, Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.access import make_keys
from tidemark_devstack.common import free_port
from tidemark_devstack.services import SERVICES
from tidemark_devstack.stack import Stack

from .ack_latency import TimingSink, ack_latencies, start_sink
from .load import wait_ok, wrk_post_rps

REPO = Path(__file__).resolve().parents[2]


def _drain(sink: TimingSink, expected: int, limit: float = 600.0) -> None:
    """Wait until `expected` acknowledgements arrived: the pipeline has no backlog left."""
    deadline = time.monotonic() + limit
    while len(sink.arrived) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    if len(sink.arrived) < expected:
        raise RuntimeError(f"only {len(sink.arrived)} of {expected} acknowledgements arrived")


def main() -> None:
    stack = Stack.private("bench", services=SERVICES)
    sink_port = free_port()
    controller, sink = start_sink(sink_port)
    bare: subprocess.Popen[bytes] | None = None
    try:
        stack.install()
        stack.start_postgres()
        stack.start_kafka(fresh=True)
        env = {"TIDEMARK_NOTIFIER_SMTP_PORT": str(sink_port), "TIDEMARK_LOG_LEVEL": "WARNING"}

        def start(names: tuple[str, ...]) -> None:
            for name in names:
                stack.start_service(
                    name,
                    stack.ports.services[name],
                    stack.ports.intake_smtp,
                    stack.log_dir / f"{name}.log",
                    extra_env=env,
                )
            for name in names:
                wait_ok(f"http://127.0.0.1:{stack.ports.services[name]}/readyz")

        # (a), (b): intake alone (its outbox relay publishing to Kafka), so the ratio shows
        # what the durable commit costs rather than the rest of the pipeline's CPU.
        start(("intake",))
        intake = f"http://127.0.0.1:{stack.ports.services['intake']}"
        key = {"X-Api-Key": asyncio.run(make_keys(stack.database_url)).web}
        bare_port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.bench.bare_app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ok(f"http://127.0.0.1:{bare_port}/docs")
        print("\n== intake: requests/s, bare FastAPI POST vs durable POST /v1/tickets ==")
        bare_rps, _ = wrk_post_rps(f"http://127.0.0.1:{bare_port}/v1/tickets")
        durable_rps, created = wrk_post_rps(f"{intake}/v1/tickets", headers=key)
        print(f"bare FastAPI+pydantic POST (no I/O):       {bare_rps:8.0f} req/s")
        print(f"POST /v1/tickets, durable (intake alone):  {durable_rps:8.0f} req/s")
        print(
            f"ratio durable/bare:                        {durable_rps / bare_rps:8.2f}"
            "   (goal: >= 0.5)"
        )
        bare.terminate()
        bare.wait(10)
        bare = None

        # (c): the whole pipeline, intake → classifier → sla-timer → notifier → SMTP.
        start(tuple(n for n in SERVICES if n != "intake"))
        started = time.monotonic()
        _drain(sink, created)  # the pipeline absorbs the tickets (b) created
        print(
            f"\n(the pipeline acknowledged the {created} tickets of (b) in "
            f"{time.monotonic() - started:.0f} s: {created / (time.monotonic() - started):.0f}"
            " tickets/s through all five services)"
        )
        for rate in (50.0, 200.0):
            print(
                f"\n== POST -> acknowledgement e-mail, 1,000 tickets at {rate:.0f}/s, "
                "all five services =="
            )
            lat = ack_latencies(intake, sink, key, count=1000, rate=rate, wait=600.0)
            print(
                f"p50 {lat['p50_ms']:.1f} ms   p99 {lat['p99_ms']:.1f} ms   "
                f"max {lat['max_ms']:.1f} ms   (goal: p99 <= 250 ms at 200/s)"
            )
    finally:
        if bare is not None:
            bare.terminate()
            bare.wait(10)
        controller.stop()
        stack.stop()
