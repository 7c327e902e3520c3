"""Latency from POST /v1/tickets to the acknowledgement e-mail arriving over real SMTP."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from .load import TICKET

_TID = re.compile(rb"\[(TID-\d+)\]")


@dataclass
class TimingSink:
    """An SMTP server that notes when each ticket's acknowledgement arrived."""

    arrived: dict[str, float] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        match = _TID.search(head)
        if match:
            self.arrived.setdefault(match.group(1).decode(), now)
        return "250 OK"


def start_sink(port: int) -> tuple[Controller, TimingSink]:
    sink = TimingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink


@dataclass
class PacedRun:
    """What a paced run sent: TID -> the instant its POST went out, and the failures."""

    sent: dict[str, float] = field(default_factory=dict)
    failed: int = 0  # connection errors, timeouts and non-2xx answers
    failures: dict[str, int] = field(default_factory=dict)  # reason -> how many


async def post_paced(
    url: str, count: int, rate: float | None, headers: dict[str, str], concurrency: int = 32
) -> PacedRun:
    """POST `count` tickets at `rate`/s (None: as fast as `concurrency` requests in flight
    allow), each with its own Idempotency-Key, as a frontend does. A request that fails is
    counted (by reason), not raised: it is a figure too."""
    run = PacedRun()
    in_flight = asyncio.Semaphore(concurrency if rate is None else count)
    nonce = uuid.uuid4().hex[:12]
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        base_url=url, timeout=10, limits=limits, headers=headers
    ) as client:

        async def one(i: int) -> None:
            if rate is not None:
                await asyncio.sleep(i / rate)
            try:
                async with in_flight:
                    started = time.perf_counter()
                    response = await client.post(
                        "/v1/tickets",
                        json=TICKET,
                        headers={"Idempotency-Key": f"paced-{nonce}-{i}"},
                    )
            except httpx.HTTPError as exc:
                _fail(run, type(exc).__name__)
                return
            if not response.is_success:
                _fail(run, f"http_{response.status_code}")
                return
            run.sent[response.json()["tid"]] = started

        await asyncio.gather(*(one(i) for i in range(count)))
    return run


def _fail(run: PacedRun, reason: str) -> None:
    run.failed += 1
    run.failures[reason] = run.failures.get(reason, 0) + 1


def ack_latencies(
    intake_url: str,
    sink: TimingSink,
    headers: dict[str, str],
    count: int = 1000,
    rate: float | None = 200.0,
    wait: float = 120.0,
) -> dict[str, Any]:
    """POST -> acknowledgement latency; failed POSTs and acknowledgements that never came
    within `wait` are reported as counts, and the percentiles cover the rest."""
    began = time.perf_counter()
    run = asyncio.run(post_paced(intake_url, count, rate, headers))
    sent = run.sent
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not set(sent) <= set(sink.arrived):
        time.sleep(0.2)
    acked = [t for t in sent if t in sink.arrived]
    ms = sorted((sink.arrived[t] - sent[t]) * 1000 for t in acked)
    # first POST to last acknowledgement: the pipeline's throughput for a burst
    wall = max((sink.arrived[t] for t in acked), default=began) - began
    return {
        "rate": rate,
        "count": count,
        "failed": run.failed,
        "failures": run.failures,
        "acknowledged": len(ms),
        "missing_acks": len(sent) - len(ms),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p99_ms": round(ms[max(0, int(len(ms) * 0.99) - 1)], 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
        "wall_s": round(wall, 2),
    }


def describe(lat: dict[str, Any]) -> str:
    """One line for the table; a run with no acknowledgement at all still prints."""
    if lat["p50_ms"] is None:
        timing = "no acknowledgement arrived"
    else:
        timing = (
            f"p50 {lat['p50_ms']:.1f} ms   p99 {lat['p99_ms']:.1f} ms   max {lat['max_ms']:.1f} ms"
        )
    return (
        f"{timing}   failed {lat['failed']} of {lat['count']}"
        f"   acknowledgements missing {lat['missing_acks']}"
    )
