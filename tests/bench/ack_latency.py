"""Latency from POST /v1/tickets to the acknowledgement e-mail arriving over real SMTP."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
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


async def post_paced(
    url: str, count: int, rate: float, headers: dict[str, str]
) -> dict[str, float]:
    """POST `count` tickets at `rate`/s; return TID → the instant its POST was sent."""
    sent: dict[str, float] = {}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        base_url=url, timeout=10, limits=limits, headers=headers
    ) as client:

        async def one(i: int) -> None:
            await asyncio.sleep(i / rate)
            started = time.perf_counter()
            response = await client.post("/v1/tickets", json=TICKET)
            response.raise_for_status()
            sent[response.json()["tid"]] = started

        await asyncio.gather(*(one(i) for i in range(count)))
    return sent


def ack_latencies(
    intake_url: str,
    sink: TimingSink,
    headers: dict[str, str],
    count: int = 1000,
    rate: float = 200.0,
    wait: float = 120.0,
) -> dict[str, float]:
    sent = asyncio.run(post_paced(intake_url, count, rate, headers))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not set(sent) <= set(sink.arrived):
        time.sleep(0.2)
    missing = set(sent) - set(sink.arrived)
    if missing:
        raise RuntimeError(f"{len(missing)} acknowledgements never arrived")
    ms = sorted((sink.arrived[t] - sent[t]) * 1000 for t in sent)
    return {
        "count": float(len(ms)),
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[max(0, int(len(ms) * 0.99) - 1)],
        "max_ms": ms[-1],
    }
