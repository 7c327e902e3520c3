"""sla-timer at scale: N open timers (default 1,000,000) in Postgres, put there with COPY,
and a due stream through them that peaks at >= 1,000 breaches per second.

Prints the lateness of emitted breaches (emit time - due time) p50/p99/max, the time the
service takes to emit again after a SIGKILL and restart (in a second, steady stream),
the peak due rate actually served, and resident memory per open timer.
Goals: p99 <= 1 s, restart <= 30 s, <= 1 KB per timer.

    uv run --frozen python -m tests.bench sla_timer             # 1,000,000 timers
    TIDEMARK_BENCH_SLA_TIMERS=100000 uv run --frozen python -m tests.bench sla_timer

TIDEMARK_BENCH_SLA_PEAK sets the peak due rate (default 1,200/s). The lateness of the peak
stream is measured without a kill; the SIGKILL comes in a second, steady stream.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tidemark_devstack.services import SERVICES, ServiceProcess
from tidemark_devstack.stack import Stack

from .load import wait_ok

PEAK_PER_S = 1200  # the due stream: a triangle 0 -> PEAK -> 0 over STREAM_S seconds
STREAM_S = 40
STEADY_PER_S = 500  # then a steady stream, killed and restarted in its middle
STEADY_S = 20
LEAD_S = 20  # from the COPY of the stream until its first due instant
COLUMNS = [
    "obligation_id",
    "kind",
    "due_at",
    "tid",
    "ob_kind",
    "level",
    "severity",
    "deadline",
    "warning_at",
    "policy_version",
]


def _row(n: int, due: datetime) -> tuple[object, ...]:
    tid = f"TID-{n}"
    return (
        f"{tid}/1",
        "breach",
        due,
        tid,
        "first_response",
        "commercial",
        "high",
        due,
        due - timedelta(minutes=15),
        "2026.1",
    )


def stream_offsets(count: int) -> list[float]:
    """Seconds after the stream's start of `count` due instants whose rate rises linearly to
    its peak at the middle and falls back (inverse CDF of a triangle)."""
    half = STREAM_S / 2
    out = []
    for i in range(count):
        u = (i + 0.5) / count
        out.append(half * (2 * u) ** 0.5 if u < 0.5 else STREAM_S - half * (2 * (1 - u)) ** 0.5)
    return out


async def _copy(url: str, rows: list[tuple[object, ...]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for i in range(0, len(rows), 200_000):
            await conn.copy_records_to_table(
                "timers", records=rows[i : i + 200_000], columns=COLUMNS, schema_name="sla_timer"
            )
        # what an operator does after a bulk load; else autovacuum's insert-triggered pass
        # over the whole table lands in the middle of the measured stream
        await conn.execute("VACUUM ANALYZE sla_timer.timers")
    finally:
        await conn.close()


async def _query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main(timers: int | None = None) -> None:
    total = timers or int(os.environ.get("TIDEMARK_BENCH_SLA_TIMERS", "1000000"))
    peak = int(os.environ.get("TIDEMARK_BENCH_SLA_PEAK", str(PEAK_PER_S)))
    offsets = stream_offsets(int(peak * STREAM_S / 2))
    stream = len(offsets)
    kill_stream = STEADY_PER_S * STEADY_S
    assert total > stream + kill_stream, f"need more than {stream + kill_stream} timers"
    stack = Stack.private("bench-sla-timer", services=SERVICES)
    port = stack.ports.services["sla-timer"]
    env = {"TIDEMARK_LOG_LEVEL": "WARNING"}
    url = stack.database_url

    def start() -> ServiceProcess:
        return stack.start_service(
            "sla-timer", port, stack.ports.intake_smtp, stack.log_dir / "sla-timer.log", env
        )

    def count(sql: str, *args: object) -> int:
        return int(asyncio.run(_query(url, sql, *args))[0]["n"])

    try:
        stack.install()
        stack.start_postgres()
        stack.start_kafka(fresh=True)
        asyncio.run(_query(url, "DROP SCHEMA IF EXISTS sla_timer CASCADE"))
        proc = start()  # applies the migrations
        wait_ok(f"http://127.0.0.1:{port}/readyz")
        proc.terminate()

        print(
            f"\n== sla-timer: {total:,} open timers; a due stream peaking at {peak}/s "
            f"({stream:,} due in {STREAM_S} s), then {STEADY_PER_S}/s for {STEADY_S} s with a "
            "SIGKILL + restart in the middle =="
        )
        t = time.monotonic()
        far = datetime.now(UTC) + timedelta(days=1)
        first_far = stream + kill_stream
        rest = [_row(n, far + timedelta(seconds=n * 2.6)) for n in range(first_far, total)]
        asyncio.run(_copy(url, rest))
        del rest
        base = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        due = [_row(n, base + timedelta(seconds=s)) for n, s in enumerate(offsets)]
        base2 = base + timedelta(seconds=STREAM_S + 10)
        due += [
            _row(stream + i, base2 + timedelta(seconds=i / STEADY_PER_S))
            for i in range(kill_stream)
        ]
        asyncio.run(_copy(url, due))
        del due
        print(f"COPY of {total:,} timer rows + VACUUM ANALYZE: {time.monotonic() - t:.1f} s")

        proc = start()
        wait_ok(f"http://127.0.0.1:{port}/readyz")
        kill_at = base2 + timedelta(seconds=STEADY_S / 2)
        time.sleep(max((kill_at - datetime.now(UTC)).total_seconds(), 0))
        cpu = _cpu_seconds(proc.pid or 0)
        served = count("SELECT count(*) AS n FROM sla_timer.breaches")
        proc.kill()
        killed = datetime.now(UTC)
        proc = start()
        restarted = datetime.now(UTC)
        first_after = None
        while first_after is None:
            first_after = asyncio.run(
                _query(
                    url,
                    "SELECT min(emitted_at) AS m FROM sla_timer.breaches WHERE emitted_at > $1",
                    restarted,
                )
            )[0]["m"]
            time.sleep(0.05)
        end = base2 + timedelta(seconds=STEADY_S)
        while True:
            done = count("SELECT count(*) AS n FROM sla_timer.breaches")
            if done >= stream + kill_stream or datetime.now(UTC) > end + timedelta(seconds=120):
                break
            time.sleep(0.5)
        rss = _rss_bytes(proc.pid or 0)
        rows = asyncio.run(
            _query(url, "SELECT deadline, emitted_at, lateness_seconds FROM sla_timer.breaches")
        )
        open_left = count("SELECT count(*) AS n FROM sla_timer.timers")
    finally:
        stack.stop()

    load = os.getloadavg()
    print(
        f"machine load average (1/5/15 min, {os.cpu_count()} CPUs): "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(f"breaches emitted: {len(rows):,} of {stream + kill_stream:,} due; open timers left: "
          f"{open_left:,}")  # fmt: skip
    first = [r for r in rows if r["deadline"] < base2]
    late = [r["lateness_seconds"] for r in first]
    per_second: dict[int, int] = {}
    windows: dict[int, list[float]] = {}
    for r in first:
        per_second[int(r["deadline"].timestamp())] = (
            per_second.get(int(r["deadline"].timestamp()), 0) + 1
        )
        offset = int((r["deadline"] - base).total_seconds() // 5 * 5)
        windows.setdefault(offset, []).append(r["lateness_seconds"])
    print(f"peak due rate: {max(per_second.values()):,} breaches due in one second")
    print(
        f"lateness of the peak stream ({len(late):,}): p50 {statistics.median(late):.3f} s   "
        f"p99 {_pct(late, 99):.3f} s   max {max(late):.3f} s   (goal: p99 <= 1 s)"
    )
    print(
        "  max lateness per 5 s of it (due offset: s):  "
        + "  ".join(f"{k}: {max(v):.2f}" for k, v in sorted(windows.items()))
    )
    second = [r["lateness_seconds"] for r in rows if r["deadline"] >= base2]
    print(
        f"lateness of the {STEADY_PER_S}/s stream across the SIGKILL ({len(second):,}): p50 "
        f"{statistics.median(second):.3f} s   p99 {_pct(second, 99):.3f} s   "
        f"max {max(second):.3f} s"
    )
    print(
        f"resume after SIGKILL: first breach {(first_after - restarted).total_seconds():.2f} s "
        f"after the restart ({(first_after - killed).total_seconds():.2f} s after the kill)"
        "   (goal: <= 30 s)"
    )
    print(
        f"CPU of the sla-timer process before the kill: {cpu:.1f} s for {served:,} breaches "
        f"(start-up included) = {cpu / max(served, 1) * 1e6:.0f} us per breach"
    )
    print(
        f"resident memory: {rss / 2**20:.0f} MiB for {open_left:,} open timers = "
        f"{rss / max(open_left, 1):.0f} bytes per open timer   (goal: <= 1 KB; the process"
        " keeps at most index_size due instants in memory, so its RSS does not grow with N)"
    )


if __name__ == "__main__":
    main()
