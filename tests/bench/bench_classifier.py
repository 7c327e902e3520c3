"""Classifier benchmark: the pure classification of the labelled requests, CPU time.

    uv run python -m tests.bench classifier

1. `classify` (entitlement, scope, category, urgency, severity: every rule over the text)
   on the 162 labelled requests, repeated to 10,000 classifications: per second, and the
   cost of one at the median and the 99th percentile.
2. The same texts padded to a long e-mail (~6 kB of quoted history and a signature), which
   the rules must cut off before matching.
Best of three runs, CPU time of this process (the machine is shared).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from tests.unit.classifier.rule_quality import HOLDOUT, TUNING, load
from tidekit.events.intake import Requester, TicketSubmitted
from tidekit.sla import load_policy
from tidemark_classifier.domain import License, classify, default_rules, support_periods

N = 10_000
NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)
LICENSE = License(
    "LIC-1", "premium", "O", frozenset({"ada@example.com"}), False, date(2026, 3, 1), None
)


def _tickets(long: bool) -> list[TicketSubmitted]:
    items = load(TUNING) + load(HOLDOUT)
    history = "\n".join(
        f"> earlier message line {n}: the site was slow, hacked?" for n in range(120)
    )
    out = []
    for n in range(N):
        item = items[n % len(items)]
        body = item["body"]
        if long:
            body += "\n\n-- \nAda\nHopper Ltd\n\nOn Mon, 1 Nov 2026 Support wrote:\n" + history
        out.append(
            TicketSubmitted(
                tid=f"TID-{n}",
                channel="email",
                requester=Requester(email="ada@example.com"),
                license_key="LIC-1",
                subject=item["subject"],
                body=body,
                severity_hint="high" if n % 3 == 0 else None,
                vip_coupon=n % 5 == 0,
                submitted_at=NOW,
            )
        )
    return out


def _run(tickets: list[TicketSubmitted]) -> tuple[float, list[float]]:
    rules = default_rules()
    periods = support_periods(load_policy())
    best, costs = float("inf"), []
    for _ in range(3):
        each = []
        start = time.process_time()
        for t in tickets:
            t0 = time.process_time()
            classify(t, LICENSE, "bench", NOW, rules, periods=periods)
            each.append(time.process_time() - t0)
        total = time.process_time() - start
        if total < best:
            best, costs = total, sorted(each)
    return best, costs


def main() -> None:
    for label, long in (("as written", False), ("long e-mails", True)):
        total, costs = _run(_tickets(long))
        p50, p99 = costs[len(costs) // 2], costs[int(len(costs) * 0.99)]
        print(
            f"classify, {label}: {N / total:,.0f} per s CPU; "
            f"median {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us"
        )


if __name__ == "__main__":
    main()
