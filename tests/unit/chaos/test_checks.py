"""The chaos run's judging and its fault script, without I/O (tests/chaos/checks.py,
faults.py): a check that cannot fail would make `make chaos` pass whatever happened."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.chaos.checks import (
    Breach,
    Obligation,
    Observed,
    expected_breach,
    judge,
    tally_breaches,
)
from tests.chaos.faults import plan_faults
from tidekit.events import TOPICS

DEADLINE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def breach(event_id: str) -> Breach:
    return Breach(event_id, DEADLINE + timedelta(seconds=1))


def observed(**changes: object) -> Observed:
    """Two tickets: TID-1 answered in time (met), TID-2 never answered (breached once)."""
    base = Observed(
        tickets_sent=2,
        answered={"k1": {"TID-1"}, "k2": {"TID-2"}},
        unsent=[],
        bad_answers=[],
        db_ticket_count=2,
        db_keys={"k1": "TID-1", "k2": "TID-2"},
        acks={"TID-1": Counter({"<a1@x>": 1}), "TID-2": Counter({"<a2@x>": 1})},
        breach_mails={"TID-2": Counter({"<b2@x>": 1})},
        breached={"TID-2/1": [breach("e1")]},
        obligations={
            "TID-1/1": Obligation("TID-1", "first_response", DEADLINE),
            "TID-2/1": Obligation("TID-2", "first_response", DEADLINE),
        },
        replied={"TID-1": DEADLINE - timedelta(minutes=1)},
        notifier_kills=1,
        dlq_records={"tidemark.intake.v1.dlq": 0},
        rebuild_diffs={"intake": "", "sla-timer": "skipped: no rebuild"},
        lag_recovery={f"tidemark.{service}.main": 4.2 for service in TOPICS},
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def failed(seen: Observed) -> list[str]:
    return [c.name.split(":")[0] for c in judge(seen) if not c.ok]


def test_a_clean_run_passes_every_check() -> None:
    assert failed(observed()) == []


def test_a_reply_decides_the_breach_and_one_near_the_deadline_is_not_judged() -> None:
    ob = Obligation("TID-1", "first_response", DEADLINE)
    assert expected_breach(ob, None) is True
    assert expected_breach(ob, DEADLINE - timedelta(minutes=1)) is False
    assert expected_breach(ob, DEADLINE + timedelta(minutes=1)) is True
    assert expected_breach(ob, DEADLINE + timedelta(seconds=2)) is None
    paused = Obligation("TID-1", "first_response", DEADLINE, paused=True)
    assert expected_breach(paused, None) is False


def test_a_clock_paused_after_its_deadline_was_due_one_paused_before_was_not() -> None:
    """Seed 23 on a saturated machine: a hold that came after the deadline (its 409s
    retried while the classifier was behind) left the obligation paused, and its breach,
    rightly emitted at the deadline, was taken for one of a clock never due."""

    def paused_at(offset: timedelta) -> Obligation:
        return Obligation("TID-1", "first_response", DEADLINE, True, DEADLINE + offset)

    assert expected_breach(paused_at(-timedelta(minutes=1)), None) is False
    assert expected_breach(paused_at(timedelta(minutes=1)), None) is True
    assert expected_breach(paused_at(timedelta(seconds=2)), None) is None
    late_hold = {"TID-2/1": [breach("e1")], "TID-1/1": [breach("e3")]}
    held = {
        "TID-1/1": paused_at(timedelta(minutes=1)),
        "TID-2/1": Obligation("TID-2", "first_response", DEADLINE),
    }
    mails = {"TID-1": Counter({"<b1@x>": 1}), "TID-2": Counter({"<b2@x>": 1})}
    late = observed(breached=late_hold, obligations=held, replied={}, breach_mails=mails)
    assert failed(late) == []


def test_a_breach_of_a_clock_never_due_is_reported_without_a_reply_or_deadline() -> None:
    never_due = {
        "TID-1/1": Obligation("TID-1", "first_response", None),
        "TID-2/1": Obligation("TID-2", "first_response", DEADLINE),
    }
    breached = {"TID-2/1": [breach("e1")], "TID-1/1": [breach("e3")]}
    [unexpected] = tally_breaches(
        observed(breached=breached, obligations=never_due, replied={})
    ).unexpected
    assert unexpected.startswith("TID-1/1 (replied never, due never, breach emitted 12:00:01")


def test_a_second_breach_a_missing_one_and_one_for_a_met_clock_each_fail() -> None:
    two = {"TID-2/1": [breach("e1"), breach("e2")]}
    assert tally_breaches(observed(breached=two)).duplicated == 1
    assert failed(observed(breached=two)) == ["breaches"]
    assert tally_breaches(observed(breached={})).missing == ["TID-2/1"]
    met_but_breached = {"TID-2/1": [breach("e1")], "TID-1/1": [breach("e3")]}
    [unexpected] = tally_breaches(observed(breached=met_but_breached)).unexpected
    assert unexpected.startswith("TID-1/1 ")
    assert failed(observed(breached=met_but_breached)) == ["breaches"]


def test_one_breach_event_published_twice_is_counted_not_a_second_breach() -> None:
    again = {"TID-2/1": [breach("e1"), breach("e1")]}
    tally = tally_breaches(observed(breached=again))
    assert (tally.duplicated, tally.republished) == (0, 1)
    assert failed(observed(breached=again)) == []


def test_two_distinct_breach_mails_for_one_breach_fail() -> None:
    two = {"TID-2": Counter({"<b2@x>": 1, "<b3@x>": 1})}
    assert failed(observed(breach_mails=two)) == ["breaches"]


def test_acknowledgement_copies_beyond_the_notifier_kills_fail_and_two_ids_always_fail() -> None:
    def with_ack_of_tid1(copies: Counter[str]) -> list[str]:
        return failed(observed(acks={"TID-1": copies, "TID-2": Counter({"<a2@x>": 1})}))

    assert with_ack_of_tid1(Counter({"<a1@x>": 2})) == []  # one copy: one notifier kill
    assert with_ack_of_tid1(Counter({"<a1@x>": 3})) == ["acknowledgements"]
    assert with_ack_of_tid1(Counter({"<a1@x>": 1, "<a9@x>": 1})) == ["acknowledgements"]
    assert failed(observed(acks={"TID-2": Counter({"<a2@x>": 1})})) == ["acknowledgements"]


def test_a_key_answered_two_tids_or_a_lost_ticket_fails() -> None:
    assert "tickets" in failed(observed(answered={"k1": {"TID-1", "TID-3"}, "k2": {"TID-2"}}))
    assert failed(observed(db_ticket_count=1)) == ["tickets"]
    assert failed(observed(unsent=["create: no answer"])) == ["tickets"]


def test_other_invariants_fail_on_their_own_evidence() -> None:
    assert failed(observed(left_over="classifier outbox 1707")) == ["drained"]
    assert failed(observed(bad_answers=["create /v1/tickets: 500"])) == ["HTTP"]
    assert failed(observed(dlq_records={"tidemark.intake.v1.dlq": 1})) == ["DLQ topics empty"]
    assert failed(observed(rebuild_diffs={"intake": "tickets: 1 row differs"})) == [
        "read models equal a rebuild from the events"
    ]
    one_late = {**observed().lag_recovery, "tidemark.notifier.main": None}
    assert failed(observed(lag_recovery=one_late)) == [
        "consumer lag back to zero within 60 s of the last fault"
    ]
    assert failed(observed(lag_recovery={"tidemark.notifier.main": 1.0})) == [
        "consumer lag back to zero within 60 s of the last fault"
    ]
    assert failed(observed(lag_recovery={})) == [
        "consumer lag back to zero within 60 s of the last fault"
    ]


def test_the_fault_script_is_replayable_and_hits_every_service_once() -> None:
    script = plan_faults(7, 200.0, 2, 20.0, 3, True, True)
    assert script == plan_faults(7, 200.0, 2, 20.0, 3, True, True)
    assert script != plan_faults(8, 200.0, 2, 20.0, 3, True, True)
    kills = sorted(f.target for f in script if f.kind == "kill-service")
    assert kills == ["classifier", "escalation", "intake", "notifier", "sla-timer"]
    kinds = Counter(f.kind for f in script)
    assert kinds["kafka-outage"] == kinds["kill-leader-broker"] == kinds["postgres-restart"] == 1
    assert [f.at for f in script] == sorted(f.at for f in script)
    assert script[-1].at < 200.0 * 0.85
    single_node = plan_faults(7, 100.0, 1, 10.0, 1, False, False)
    assert {f.kind for f in single_node} == {"kill-service", "kafka-outage"}


def test_a_load_that_fell_behind_its_rate_fails() -> None:
    """Seed 23 passed every other check with its 10,000 tickets sent over 679 s instead of
    200: the client waited for one of its 200 connections while the system answered
    slowly, so the lag check judged a load throttled to what the system could carry."""
    assert failed(observed(slot_wait_max=0.4)) == []
    assert failed(observed(slot_wait_max=95.0)) == ["load kept its rate"]
