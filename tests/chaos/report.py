"""The table a chaos run prints: faults and their recoveries, tickets, acknowledgements,
breaches expected/emitted/duplicated, HTTP answers by class, and each invariant's verdict."""

from __future__ import annotations

from .checks import tally_breaches
from .run import Outcome


def table(outcome: Outcome) -> str:
    c, seen, load = outcome.config, outcome.observed, outcome.load
    lines = [
        f"chaos run: seed {c.seed}, {c.tickets} tickets at {c.rate:g}/s, {c.brokers} Kafka "
        f"node(s), {c.replicas} replica(s) per service, first-response target {c.target}",
        "",
        "faults injected                                         all replicas ready after",
    ]
    for record in outcome.faults:
        back = "NOT BACK" if record.recovered_s is None else f"{record.recovered_s:6.1f} s"
        lines.append(
            f"  {record.fault.describe():<52}  {back}   ({record.began_utc} UTC: {record.detail})"
        )
    b = tally_breaches(seen)
    acked = sum(1 for t in seen.acks.values() if t)
    copies = sum(n - 1 for counter in seen.acks.values() for n in counter.values())
    breach_copies = sum(n - 1 for counter in seen.breach_mails.values() for n in counter.values())
    classes = load.classes()
    rows = [
        (
            "tickets sent / answered / in intake",
            f"{c.tickets} / {len([k for k, t in load.tids.items() if t])} / {seen.db_ticket_count}",
        ),
        ("staff replies / holds resumed", f"{load.replies} / {load.holds}"),
        (
            "acknowledgements: tickets with one / same-id copies",
            f"{acked} / {copies} (notifier kills {seen.notifier_kills})",
        ),
        (
            "breaches expected / emitted / duplicated",
            f"{b.expected} / {b.emitted} / {b.duplicated} (not judged: {b.ambiguous}; "
            f"the same event published again: {b.republished})",
        ),
        (
            "breach mails: distinct / same-id copies",
            f"{sum(len(m) for m in seen.breach_mails.values())} / {breach_copies}",
        ),
        ("HTTP answers by class", ", ".join(f"{k} {n}" for k, n in sorted(classes.items()))),
        (
            "consumer groups: seconds to handle the backlog of the last fault",
            ", ".join(
                f"{g.removeprefix('tidemark.')} {'-' if s is None else s}"
                for g, s in sorted(seen.lag_recovery.items())
            ),
        ),
        ("phases (s)", ", ".join(f"{k} {v:.0f}" for k, v in outcome.seconds.items())),
    ]
    width = max(len(r[0]) for r in rows)
    lines += ["", *(f"{name:<{width}}  {value}" for name, value in rows), ""]
    for check in outcome.checks:
        lines.append(f"[{'PASS' if check.ok else 'FAIL'}] {check.name}")
        lines.append(f"       {check.detail}")
    lines.append("")
    lines.append("ALL INVARIANTS HOLD" if outcome.ok else "AN INVARIANT FAILED")
    return "\n".join(lines)
