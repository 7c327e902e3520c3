"""The invariants, judged from what was gathered (collect.py); pure, so each is unit-tested.

Facts come from Postgres, Kafka and the SMTP sink, never from the services' own counters;
the client's side (what it sent, what it was answered) comes from the load client."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tidekit.events import TOPICS

# A staff reply this close to the deadline (either side) may fairly be judged either way
# (the reply's record and the timer race): such obligations are counted, not judged.
MARGIN = timedelta(seconds=10)


@dataclass
class Obligation:
    tid: str
    kind: str
    deadline: datetime | None  # the latest one announced (started, resumed, target changed)
    paused: bool = False  # its last announcement was a pause
    paused_at: datetime | None = None  # when, if so


@dataclass(frozen=True)
class Breach:
    event_id: str  # ce_id: the same id twice is one breach published twice, not two
    emitted_at: datetime


@dataclass
class Observed:
    """Everything the checks judge."""

    tickets_sent: int
    answered: dict[str, set[str]]  # client: Idempotency-Key -> the TIDs it was answered
    unsent: list[str]  # client: requests given up
    bad_answers: list[str]  # client: 500s, 503 without Retry-After, unexpected 4xx
    db_ticket_count: int  # intake's tickets table
    db_keys: dict[str, str | None]  # intake's idempotency_keys: key -> TID
    acks: dict[str, Counter[str]]  # sink: TID -> Message-ID -> copies of the acknowledgement
    breach_mails: dict[str, Counter[str]]  # sink: TID -> Message-ID -> copies
    breached: dict[str, list[Breach]]  # Kafka: obligation id -> its sla.breached records
    obligations: dict[str, Obligation]  # Kafka: obligation id -> what sla.v1 announced
    replied: dict[str, datetime]  # Kafka: TID -> first public staff reply (intake.v1)
    notifier_kills: int
    dlq_records: dict[str, int]  # Kafka: DLQ topic -> records
    rebuild_diffs: dict[str, str]  # service -> '' when its read model equals a rebuild
    lag_recovery: dict[str, float | None] = field(default_factory=dict)  # group -> seconds
    left_over: str = ""  # what was still to do when the run gave up waiting ('' quiet)
    slot_wait_max: float = 0.0  # client: longest wait of a request for a free connection
    slot_wait_max_at: float = 0.0  # ... and when it began (s into the load, as the faults' t+)


# A request may wait this long for a free connection of the client's 200 (a fault's
# moment); longer, and the load no longer had the rate it was asked for.
RATE_SLACK_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class BreachTally:
    expected: int
    emitted: int  # distinct obligations with an sla.breached
    duplicated: int  # distinct sla.breached events beyond the first per obligation
    republished: int  # records repeating an event id already on the topic (same breach)
    unexpected: list[str]  # breached although met in time
    missing: list[str]  # overdue without a reply, but no breach
    ambiguous: int  # replied within MARGIN of the deadline: not judged
    mails_wrong: list[str]  # breached obligations without exactly one distinct breach mail


def expected_breach(ob: Obligation, replied: datetime | None) -> bool | None:
    """True: overdue without a reply; False: met, or paused before its deadline (so never
    due); None: too close to call. A clock paused after its deadline was due all the
    same (a hold that came late): the reply decides, as for a running one."""
    if ob.deadline is None:
        return False
    if ob.paused:
        if ob.paused_at is None or ob.paused_at < ob.deadline - MARGIN:
            return False
        if ob.paused_at <= ob.deadline + MARGIN:
            return None
    if replied is None or replied > ob.deadline + MARGIN:
        return True
    if replied < ob.deadline - MARGIN:
        return False
    return None


def _hms(at: datetime | None) -> str:
    return "never" if at is None else f"{at:%H:%M:%S}"


def tally_breaches(seen: Observed) -> BreachTally:
    expected, unexpected, missing, mails_wrong, ambiguous = 0, [], [], [], 0
    distinct = {ob: {b.event_id for b in records} for ob, records in seen.breached.items()}
    for ob_id, ob in sorted(seen.obligations.items()):
        replied = seen.replied.get(ob.tid)
        due = expected_breach(ob, replied)
        if due is None:
            ambiguous += 1
            continue
        emitted = bool(distinct.get(ob_id))
        expected += due
        if due and not emitted:
            missing.append(ob_id)
        if emitted and not due:
            first = min(b.emitted_at for b in seen.breached[ob_id])
            unexpected.append(
                f"{ob_id} (replied {_hms(replied)}, due {_hms(ob.deadline)}, "
                f"breach emitted {_hms(first)} UTC)"
            )
    per_ticket = Counter(seen.obligations[o].tid for o in distinct if o in seen.obligations)
    for tid, count in sorted(per_ticket.items()):
        mails = len(seen.breach_mails.get(tid, ()))
        if mails != count:
            mails_wrong.append(f"{tid}: {count} breached, {mails} distinct breach mails")
    return BreachTally(
        expected=expected,
        emitted=sum(1 for ids in distinct.values() if ids),
        duplicated=sum(len(ids) - 1 for ids in distinct.values() if ids),
        republished=sum(len(seen.breached[ob]) - len(ids) for ob, ids in distinct.items()),
        unexpected=unexpected,
        missing=missing,
        ambiguous=ambiguous,
        mails_wrong=mails_wrong,
    )


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" … ({len(items)} in all)" if len(items) > n else "")


def judge(seen: Observed) -> list[Check]:
    checks: list[Check] = [
        Check(
            "drained: outboxes published, timers fired, mail sent, every group at the end",
            not seen.left_over,
            seen.left_over or "quiet",
        )
    ]
    answered = {k: t for k, t in seen.answered.items() if t}
    twice = [f"{k}: {sorted(t)}" for k, t in answered.items() if len(t) > 1]
    db_mismatch = [k for k, tids in answered.items() if seen.db_keys.get(k) not in tids]
    db_tids = [t for t in seen.db_keys.values() if t]
    checks.append(Check(
        "tickets: distinct, one TID per Idempotency-Key",
        not twice and not db_mismatch and not seen.unsent
        and len(answered) == seen.tickets_sent == seen.db_ticket_count == len(set(db_tids)),
        f"sent {seen.tickets_sent}, answered {len(answered)}, intake has {seen.db_ticket_count} "
        f"tickets and {len(set(db_tids))} keyed TIDs; keys answered two TIDs: {len(twice)} "
        f"{_few(twice)}; keys whose stored TID differs: {_few(db_mismatch)}; "
        f"given up: {_few(seen.unsent)}",
    ))  # fmt: skip
    tids = {t for ts in answered.values() for t in ts}
    no_ack = sorted(t for t in tids if not seen.acks.get(t))
    two_acks = sorted(t for t in tids if len(seen.acks.get(t, ())) > 1)
    copies = sum(n - 1 for c in seen.acks.values() for n in c.values())
    checks.append(Check(
        "acknowledgements: one Message-ID per ticket, copies <= notifier kills",
        not no_ack and not two_acks and copies <= seen.notifier_kills,
        f"{len(tids) - len(no_ack)} of {len(tids)} tickets acknowledged; without: "
        f"{_few(no_ack)}; with two Message-IDs: {_few(two_acks)}; same-id copies {copies} "
        f"(notifier kills {seen.notifier_kills})",
    ))  # fmt: skip
    b = tally_breaches(seen)
    checks.append(Check(
        "breaches: exactly one per overdue obligation, none for met ones, one breach mail",
        not b.missing and not b.unexpected and not b.duplicated and not b.mails_wrong
        and b.expected == b.emitted,
        f"expected {b.expected}, emitted {b.emitted}, duplicated {b.duplicated} (same event "
        f"published again: {b.republished}), "
        f"not judged (reply within {MARGIN.seconds}s of the deadline) {b.ambiguous}; missing: "
        f"{_few(b.missing)}; for met ones: {_few(b.unexpected)}; mails: {_few(b.mails_wrong)}",
    ))  # fmt: skip
    differ = {s: d for s, d in seen.rebuild_diffs.items() if d and not d.startswith("skipped")}
    checks.append(Check(
        "read models equal a rebuild from the events",
        not differ,
        "; ".join(f"{s}: {d or 'equal'}" for s, d in sorted(seen.rebuild_diffs.items())),
    ))  # fmt: skip
    late = {g: s for g, s in seen.lag_recovery.items() if s is None}
    unmeasured = sorted(set(TOPICS) - {g.split(".")[1] for g in seen.lag_recovery})
    checks.append(Check(
        "consumer lag back to zero within 60 s of the last fault",
        not unmeasured and not late,
        ", ".join(f"{g}: {'not within 60s' if s is None else f'{s:.1f}s'}"
                  for g, s in sorted(seen.lag_recovery.items()))
        + (f"; no group listed for {', '.join(unmeasured)}" if unmeasured else ""),
    ))  # fmt: skip
    checks.append(Check(
        "HTTP: 2xx, 4xx caused by the request, 503 with Retry-After; no 500",
        not seen.bad_answers,
        f"{len(seen.bad_answers)} bad answers: {_few(seen.bad_answers)}",
    ))  # fmt: skip
    checks.append(Check(
        f"load kept its rate: no request waited over {RATE_SLACK_SECONDS:.0f} s for one of "
        "the client's connections",
        seen.slot_wait_max <= RATE_SLACK_SECONDS,
        f"longest wait {seen.slot_wait_max:.1f} s, from t+{seen.slot_wait_max_at:.0f}s (the "
        "faults' clock; a longer one: the system answered too "
        "slowly for the rate, which the client then no longer kept; the other checks, lag "
        "above all, judged a lighter load than asked)",
    ))  # fmt: skip
    full = {t: n for t, n in seen.dlq_records.items() if n}
    checks.append(Check(
        "DLQ topics empty",
        not full,
        f"{len(seen.dlq_records)} DLQ topics; with records: {full or 'none'}",
    ))  # fmt: skip
    return checks
