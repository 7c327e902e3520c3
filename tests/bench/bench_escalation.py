"""Escalation benchmarks, printed side by side in one run on this machine:

(a) pure routing decisions (`handle`: decide + evolve) per second of CPU time, on 100,000
    random tickets and commands under the shipped rules;
(b) the queue routes over HTTP against 100,000 waiting tickets in PostgreSQL (loaded with
    COPY): GET /v1/queues latency, GET /v1/queues/tier1 first page vs a page ~50,000 deep
    (keyset cursors: the depth should not matter), and a walk of the whole tier1 queue.

    uv run python -m tests.bench escalation
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tidekit.events.classifier import TicketClassified
from tidekit.events.intake import SupervisorReviewRequested
from tidekit.events.sla import SlaBreached, SlaWarning
from tidekit.sla import load_policy
from tidemark_devstack.services import SERVICES
from tidemark_devstack.stack import Stack
from tidemark_escalation.domain import Context, TicketState, handle
from tidemark_escalation.ordering import serve_rank, tid_key
from tidemark_escalation.rules import load_rules

N = 100_000
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
QUEUE_SHARE = [("tier1", 0.6), ("tier2", 0.25), ("supervisor", 0.1), ("development", 0.05)]


def _context(now: datetime) -> Context:
    policy, rules = load_policy(), load_rules()
    may = {lvl: spec.may_go_to_development for lvl, spec in policy.model.levels.items()}
    return Context(rules, policy.calendars[rules.tier2_calendar], may, now)


def pure_decisions() -> None:
    rng = random.Random(9)
    contexts = [_context(NOW + timedelta(hours=h)) for h in range(0, 168, 7)]  # all week
    sev = ["critical", "high", "medium", "low", None]
    cases: list[tuple[TicketState, Any, Context]] = []
    for i in range(N):
        tid = f"TID-{i}"
        c = TicketClassified(
            tid=tid, level="commercial", severity=rng.choice(sev), category="other",
            in_scope=True, entitlement="active", urgent=rng.random() < 0.05,
            policy_version="2026.1", reasons=("r",), submitted_at=NOW, classified_at=NOW,
        )  # fmt: skip
        ctx = rng.choice(contexts)
        roll = rng.random()
        if roll < 0.4:
            cases.append((TicketState(tid=tid), c, ctx))
            continue
        state, _ = handle(TicketState(tid=tid), c, ctx)
        ob = {"tid": tid, "obligation_id": f"{tid}/1", "kind": "first_response"}
        cmd: Any
        if roll < 0.7:
            cmd = SlaBreached(
                **ob, level="commercial", severity=None, deadline=NOW, emitted_at=NOW,
                lateness_seconds=0, policy_version="2026.1",
            )  # fmt: skip
        elif roll < 0.9:
            cmd = SlaWarning(
                **ob, warning_at=NOW, deadline=NOW, emitted_at=NOW, lateness_seconds=0,
                policy_version="2026.1",
            )  # fmt: skip
        else:
            cmd = SupervisorReviewRequested(tid=tid, requested_at=NOW)
        cases.append((state, cmd, ctx))
    best = float("inf")
    moves = 0
    for _ in range(3):
        started = time.process_time()
        moves = sum(1 for s, cmd, ctx in cases if handle(s, cmd, ctx)[1])
        best = min(best, time.process_time() - started)
    print("\n== escalation: pure routing decisions (decide + evolve), shipped rules ==")
    print(f"{N} decisions in {best:.2f} s CPU: {N / best:,.0f} decisions/s ({moves} moves)")


async def _load(url: str) -> dict[str, int]:
    rng = random.Random(3)
    conn = await asyncpg.connect(url)
    try:  # a bench database: earlier runs' rows go
        await conn.execute("TRUNCATE escalation.queue_entries, escalation.ticket_deadlines")
        rows, deadlines = [], []
        counts: dict[str, int] = {}
        for i in range(N):
            queue = rng.choices([q for q, _ in QUEUE_SHARE], [w for _, w in QUEUE_SHARE])[0]
            counts[queue] = counts.get(queue, 0) + 1
            tid = f"TID-{10_000_000 + i}"
            urgent = rng.random() < 0.05
            submitted = NOW - timedelta(seconds=rng.randrange(30 * 86400))
            deadline = submitted + timedelta(hours=24) if rng.random() < 0.7 else None
            rows.append(
                (tid, queue, urgent, submitted, "commercial", "medium", submitted,
                 serve_rank(urgent), tid_key(tid), True, "default:tier1", "bench", None, [],
                 deadline)
            )  # fmt: skip
            if deadline is not None:
                deadlines.append((tid, f"{tid}/1", deadline))
        await conn.copy_records_to_table(
            "queue_entries", schema_name="escalation", records=rows,
            columns=["tid", "queue", "urgent", "submitted_at", "level", "severity", "queued_at",
                     "serve_rank", "tid_key", "waiting", "rule", "reason", "note", "acted_on",
                     "deadline"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "ticket_deadlines", schema_name="escalation", records=deadlines,
            columns=["tid", "obligation_id", "deadline"],
        )  # fmt: skip
        await conn.execute("VACUUM ANALYZE escalation.queue_entries")  # as autovacuum would
        await conn.execute("VACUUM ANALYZE escalation.ticket_deadlines")
        return counts
    finally:
        await conn.close()


def _latency(client: httpx.Client, path: str, params: dict[str, Any], n: int) -> str:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"p50 {statistics.median(times):6.1f} ms   p99 {p99:6.1f} ms"


def queues_over_http() -> None:
    stack = Stack.private("bench-escalation", services=SERVICES)
    try:
        stack.install()
        stack.start_postgres(fresh=True)  # every run on an empty database
        stack.start_kafka(fresh=True)
        env = {
            "TIDEMARK_LOG_LEVEL": "WARNING",
            "TIDEMARK_ESCALATION_CLOCK": "manual:" + NOW.isoformat(),
        }
        port = stack.ports.services["escalation"]
        proc = stack.start_service(
            "escalation", port, stack.ports.intake_smtp, stack.log_dir / "escalation.log", env
        )
        proc.wait_healthy(path="/readyz")
        counts = asyncio.run(_load(stack.database_url))
        print(f"\n== escalation: queue routes over HTTP, {N:,} waiting tickets ==")
        print("per queue: " + ", ".join(f"{q} {n:,}" for q, n in counts.items()))
        with httpx.Client(base_url=proc.url, timeout=30) as client:
            print(f"GET /v1/queues (summary)              {_latency(client, '/v1/queues', {}, 50)}")
            first = _latency(client, "/v1/queues/tier1", {"limit": 50}, 100)
            print(f"GET /v1/queues/tier1 first 50         {first}")
            started = time.perf_counter()
            cursor, pages, seen, deep = None, 0, 0, None
            while True:
                params: dict[str, Any] = {"limit": 500}
                if cursor:
                    params["cursor"] = cursor
                page = client.get("/v1/queues/tier1", params=params).json()
                pages, seen = pages + 1, seen + len(page["tickets"])
                cursor = page["next_cursor"]
                if deep is None and seen >= 50_000 and cursor:
                    deep = cursor
                if cursor is None:
                    break
            walk = time.perf_counter() - started
            if deep is not None:
                deep_lat = _latency(client, "/v1/queues/tier1", {"limit": 50, "cursor": deep}, 100)
                print(f"GET /v1/queues/tier1 50 at ~50,000 deep {deep_lat}")
            print(
                f"walk of tier1: {seen:,} tickets in {pages} pages of 500, {walk:.1f} s "
                f"({seen / walk:,.0f} tickets/s)"
            )
    finally:
        stack.stop()


def main() -> None:
    pure_decisions()
    queues_over_http()
