"""SLA engine benchmark: prints figures measured side by side in one run.

    uv run python -c "from tests.bench.bench_sla import main; main()"

1. The same 10,000 random cases (a start in 2025-2028, + 24 working hours on the 06:00-16:00
   Mon-Fri UTC calendar with US holidays) through this engine and through businesstimedelta:
   deadlines per second of each and the ratio (goal >= 50). The answers are compared too.
2. The cost of one `add` on a 14-day 24x7 target and on a 72 h business-days target across a
   year-end holiday cluster (Berlin, German holidays, starts 21-31 December).
3. `tidemark-sla` on 10,000 generated JSON lines, in process and as a fresh process.

Times are CPU time of this process (or of the child), best of a few runs where repeated, so
that other work on a shared machine does not skew the ratio.
"""

from __future__ import annotations

import io
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

import businesstimedelta as btd
import holidays
import pytz

from tidekit.sla import Calendar, Holidays, add, load_policy
from tidekit.sla.cli import answer_lines

N = 10_000
HOUR = 3600
TIER2_WEEK = tuple(((6 * HOUR, 16 * HOUR),) if d < 5 else () for d in range(7))
ALL_DAY_WEEKDAYS = tuple(((0, 24 * HOUR),) if d < 5 else () for d in range(7))


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best CPU time of a few runs (CPU, not wall: the machine may be shared)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def _starts(rng: random.Random, n: int) -> list[datetime]:
    lo = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2029, 1, 1, tzinfo=UTC) - lo).total_seconds())
    return [lo + timedelta(seconds=rng.randrange(span)) for _ in range(n)]


def versus_businesstimedelta() -> None:
    starts = _starts(random.Random(7), N)
    day = timedelta(hours=24)

    cold_cal = Calendar("tier2_us", "UTC", TIER2_WEEK, Holidays("US"))
    started = time.process_time()
    ours = [add(cold_cal, s, day) for s in starts]
    cold = time.process_time() - started  # includes compiling four years of the calendar

    cal = Calendar("tier2_us", "UTC", TIER2_WEEK, Holidays("US"))
    for s in starts[:50]:
        add(cal, s, day)
    warm = _best(lambda: [add(cal, s, day) for s in starts])

    rules = btd.Rules(
        [
            btd.WorkDayRule(start_time=dtime(6), end_time=dtime(16), working_days=[0, 1, 2, 3, 4]),
            btd.HolidayRule(holidays.country_holidays("US")),
        ]
    )
    delta = btd.BusinessTimeDelta(rules, hours=24)
    naive = [pytz.utc.localize(s.replace(tzinfo=None)) for s in starts]
    started = time.process_time()
    theirs = [s + delta for s in naive]
    btd_time = time.process_time() - started

    disagree = sum(a != b for a, b in zip(ours, theirs, strict=True))
    print(f"{N:,} deadlines, start + 24 working hours, Mon-Fri 06-16 UTC, US holidays")
    print(
        f"  tidekit.sla (warm)          {N / warm:>12,.0f} deadlines/s  ({warm / N * 1e6:.1f} us)"
    )
    print(f"  tidekit.sla (cold, with the year tables compiled inside)  {N / cold:,.0f}/s")
    print(
        f"  businesstimedelta           {N / btd_time:>12,.0f} deadlines/s  "
        f"({btd_time / N * 1e6:.1f} us)"
    )
    print(f"  ratio (warm)                {btd_time / warm:>12.0f}x   (goal >= 50)")
    print(f"  ratio (cold)                {btd_time / cold:>12.0f}x")
    print(f"  answers that differ         {disagree:>12}")


def add_costs() -> None:
    policy = load_policy()
    c24 = policy.calendars["24x7"]
    rng = random.Random(11)
    starts = _starts(rng, N)
    for s in starts[:50]:
        add(c24, s, timedelta(days=14))
    t = _best(lambda: [add(c24, s, timedelta(days=14)) for s in starts])
    print(f"add, 14 days on 24x7:                           {t / N * 1e6:6.2f} us per deadline")

    berlin = Calendar("berlin", "Europe/Berlin", ALL_DAY_WEEKDAYS, Holidays("DE"))
    year_end = [
        datetime(y, 12, 21, tzinfo=UTC) + timedelta(seconds=rng.randrange(11 * 86_400))
        for y in (rng.randrange(2024, 2030) for _ in range(N))
    ]
    started = time.process_time()
    add(berlin, year_end[0], timedelta(hours=72))
    first = time.process_time() - started
    for s in year_end[:200]:
        add(berlin, s, timedelta(hours=72))
    t = _best(lambda: [add(berlin, s, timedelta(hours=72)) for s in year_end])
    print(f"add, 72 h business days over the year end (DE): {t / N * 1e6:6.2f} us per deadline")
    print(f"  first call on a fresh calendar (compiles two years): {first * 1e3:.2f} ms")


def _cases(n: int) -> list[str]:
    rng = random.Random(3)
    levels = ["commercial", "partner", "vip_request", "non_commercial", "commercial_vip"]
    severities = ["low", "medium", "high", "critical", None]
    out = []
    for i, s in enumerate(_starts(rng, n)):
        z = s.strftime("%Y-%m-%dT%H:%M:%SZ")
        later = (s + timedelta(hours=rng.randrange(1, 72))).strftime("%Y-%m-%dT%H:%M:%SZ")
        events: list[dict[str, Any]] = [{"at": z, "type": "submitted"}]
        if i % 2:
            events.append({"at": later, "type": "staff_replied"})
        out.append(
            json.dumps(
                {
                    "id": i,
                    "level": rng.choice(levels),
                    "severity": rng.choice(severities),
                    "events": events,
                }
            )
        )
    return out


def cli_throughput() -> None:
    lines = _cases(N)
    policy = load_policy()
    t = _best(lambda: list(answer_lines(policy, lines)), repeat=2)
    print(f"tidemark-sla, {N:,} JSON lines in process: {t:.2f} s CPU ({N / t:,.0f} lines/s)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tidekit.sla.cli"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    answered = sum(1 for _ in io.StringIO(done.stdout))
    print(
        f"tidemark-sla, {N:,} JSON lines as a new process: {wall:.2f} s wall, {cpu:.2f} s CPU "
        f"({answered:,} lines answered; process start and imports included)"
    )


def main() -> None:
    versus_businesstimedelta()
    add_costs()
    cli_throughput()


if __name__ == "__main__":
    main()
