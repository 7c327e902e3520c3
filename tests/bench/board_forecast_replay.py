"""A scripted day at a support desk, replayed against the board's at-risk forecast:
how many real breaches it flags at least 30 minutes ahead (recall), and how many of its
flags do breach (precision). Deterministic (seeded); pure, so it runs in about a second.

    uv run --frozen python -m tests.bench.board_forecast_replay [--seed 20] [--days 10]

The desk: one queue served first come, first served; tickets arrive around the clock,
busiest mid-morning and early afternoon; each carries a first-response target (1 h, 4 h
or 8 h by level); agents on shift take the next ticket in line and send the first reply
after a handling time (exponential, mean 12 min). Staffing does not quite follow the
afternoon peak, so the line grows and breaches happen. Every 5 minutes the board's
forecast (tidemark_escalation.board.forecast, unchanged) looks at the line with the
serving rate of the last hour, as the at-risk view does.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tidemark_escalation.board.forecast import DEFAULT_WINDOW, Waiting, at_risk, serving_rate

DAY_START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LOOK_EVERY = 5  # minutes between two forecasts
LEAD = timedelta(minutes=30)  # a useful flag comes at least this long before the deadline
TARGETS = ((0.15, timedelta(hours=1)), (0.50, timedelta(hours=4)), (0.35, timedelta(hours=8)))
HANDLING_MEAN_MINUTES = 12.0
# Agents on shift by hour of day (UTC); arrivals per hour by hour of day.
AGENTS = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1)
ARRIVALS = (2, 2, 1, 1, 1, 2, 4, 8, 14, 20, 22, 20, 16, 18, 20, 18, 14, 10, 8, 6, 5, 4, 3, 2)


@dataclass
class Ticket:
    tid: str
    arrived: datetime
    deadline: datetime
    taken: datetime | None = None
    replied: datetime | None = None
    first_flag: datetime | None = None


@dataclass
class Day:
    tickets: list[Ticket] = field(default_factory=list)
    breached: int = 0
    flagged: int = 0
    flagged_and_breached: int = 0
    caught_early: int = 0

    @property
    def recall(self) -> float:
        return self.caught_early / self.breached if self.breached else 1.0

    @property
    def precision(self) -> float:
        return self.flagged_and_breached / self.flagged if self.flagged else 1.0


def _target(rng: random.Random) -> timedelta:
    draw, acc = rng.random(), 0.0
    for share, target in TARGETS:
        acc += share
        if draw < acc:
            return target
    return TARGETS[-1][1]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of one minute.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def replay(seed: int = 20, hours: int = 24) -> Day:
    rng = random.Random(seed)
    day = Day()
    line: list[Ticket] = []  # awaiting a first reply, in serving order (taken ones too)
    busy_until: list[datetime] = []  # one per agent on shift: free again at
    replies: list[datetime] = []
    end = DAY_START + timedelta(hours=hours)
    now = DAY_START
    minute = 0
    while now < end or line:
        hour = (minute // 60) % 24
        if now < end:
            for _ in range(_poisson(rng, ARRIVALS[hour] / 60)):
                ticket = Ticket(f"TID-{len(day.tickets) + 1}", now, now + _target(rng))
                day.tickets.append(ticket)
                line.append(ticket)
        # Shifts change on the hour: agents join, or leave once their ticket is answered.
        staffed = AGENTS[hour] if now < end else max(AGENTS)
        busy_until = sorted(busy_until)[:staffed] + [now] * max(0, staffed - len(busy_until))
        for ticket in [t for t in line if t.replied is not None and t.replied <= now]:
            line.remove(ticket)
            replies.append(ticket.replied)  # type: ignore[arg-type]
        for agent, free_at in enumerate(busy_until):
            if free_at > now:
                continue
            nxt = next((t for t in line if t.taken is None), None)
            if nxt is None:
                break
            nxt.taken = now
            handling = timedelta(minutes=rng.expovariate(1 / HANDLING_MEAN_MINUTES))
            nxt.replied = now + max(MINUTE, handling)
            busy_until[agent] = nxt.replied
        if minute % LOOK_EVERY == 0:
            rate = serving_rate(replies, now, DEFAULT_WINDOW)
            waiting = [Waiting(t.tid, t.deadline) for t in line]
            by_tid = {t.tid: t for t in line}
            for flag in at_risk(waiting, rate, now, DEFAULT_WINDOW):
                ticket = by_tid[flag.tid]
                if ticket.first_flag is None:
                    ticket.first_flag = now
        now += MINUTE
        minute += 1
    for t in day.tickets:
        assert t.replied is not None
        breached = t.replied > t.deadline
        day.breached += breached
        if t.first_flag is not None:
            day.flagged += 1
            day.flagged_and_breached += breached
        if breached and t.first_flag is not None and t.first_flag <= t.deadline - LEAD:
            day.caught_early += 1
    return day


def replay_days(first_seed: int, days: int) -> Day:
    """`days` days (seeds first_seed, first_seed + 1, ...) counted together."""
    total = Day()
    for seed in range(first_seed, first_seed + days):
        day = replay(seed)
        total.tickets += day.tickets
        total.breached += day.breached
        total.flagged += day.flagged
        total.flagged_and_breached += day.flagged_and_breached
        total.caught_early += day.caught_early
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args()
    for label, day in (
        (f"day (seed {args.seed})", replay(args.seed)),
        (f"{args.days} days (seeds {args.seed}-{args.seed + args.days - 1})",
         replay_days(args.seed, args.days)),
    ):  # fmt: skip
        print(
            f"{label}: {len(day.tickets)} tickets, {day.breached} breached, {day.flagged} "
            f"flagged, {day.caught_early} breaches flagged >= 30 min ahead: "
            f"recall {day.recall:.2f}, precision {day.precision:.2f}"
        )


if __name__ == "__main__":
    main()
