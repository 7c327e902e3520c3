"""The sla-timer's pure decisions: facts -> engine replay -> events owed once, timers.

2026-11-27 is a Friday. commercial/high: 1 h on 24x7 (the severity leg beats the 24 h
business-day level leg); warning at 75 % = 45 min.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

import tidekit.sla as sla
from tidekit.events.sla import (
    ClockMet,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    SlaBreached,
    SlaWarning,
    TargetChanged,
)
from tidekit.sla import load_policy
from tidekit.sla.policy import build_policy
from tidemark_sla_timer.domain import (
    ClockInput,
    TicketFacts,
    fire,
    pending_events,
    replay,
    target_changes,
    timers_for,
)
from tidemark_sla_timer.index import DueIndex

POLICY = load_policy()
T0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
M = timedelta(minutes=1)
HIGH = TicketFacts("commercial", "high", "active", T0)


def at(minutes: int) -> datetime:
    return T0 + minutes * M


def test_first_response_started_and_met() -> None:
    state = replay(POLICY, HIGH, [ClockInput(at(30), "staff_replied", seq=1)])
    assert state is not None
    events = [p.event for p in pending_events("TID-1", state, set())]
    started, met = events
    assert isinstance(started, ClockStarted)
    assert (started.obligation_id, started.kind) == ("TID-1/1", "first_response")
    assert (started.deadline, started.warning_at) == (at(60), at(45))
    assert (started.target_seconds, started.calendar, started.policy_version) == (
        3600,
        "24x7",
        "2026.1",
    )
    assert isinstance(met, ClockMet)
    assert (met.met_at, met.deadline, met.elapsed_seconds) == (at(30), at(60), 1800)
    assert timers_for("TID-1", state, set()) == []  # met in time: no warning, no breach


def test_not_classified_yet_no_clock() -> None:
    assert replay(POLICY, None, [ClockInput(at(1), "customer_message")]) is None


def test_expired_entitlement_no_clock() -> None:
    facts = TicketFacts("commercial", "high", "expired", T0)
    state = replay(POLICY, facts, [])
    assert state is not None
    assert pending_events("TID-1", state, set()) == []
    assert timers_for("TID-1", state, set()) == []


def test_on_hold_pauses_and_resume_moves_the_deadline() -> None:
    inputs = [
        ClockInput(at(10), "status", seq=1, status="on_hold"),
        ClockInput(at(40), "status", seq=2, status="open"),
    ]
    state = replay(POLICY, HIGH, inputs)
    assert state is not None
    pending = pending_events("TID-1", state, set())
    assert [p.key[1:] for p in pending] == [
        ("clock_started", 0),
        ("clock_paused", 0),
        ("clock_resumed", 1),
    ]
    paused, resumed = pending[1].event, pending[2].event
    assert isinstance(paused, ClockPaused) and paused.elapsed_seconds == 600
    assert isinstance(resumed, ClockResumed)
    assert (resumed.deadline, resumed.warning_at) == (at(90), at(75))  # 30 min paused
    warning, breach = timers_for("TID-1", state, set())
    assert (warning.kind, warning.due_at, breach.kind, breach.due_at) == (
        "warning",
        at(75),
        "breach",
        at(90),
    )


def test_paused_clock_has_no_timers_unless_already_used_up() -> None:
    paused = replay(POLICY, HIGH, [ClockInput(at(10), "status", seq=1, status="on_hold")])
    assert paused is not None and timers_for("TID-1", paused, set()) == []
    late = replay(POLICY, HIGH, [ClockInput(at(70), "status", seq=1, status="on_hold")])
    assert late is not None
    assert [(t.kind, t.due_at) for t in timers_for("TID-1", late, set())] == [
        ("warning", at(45)),
        ("breach", at(60)),
    ]


def test_waiting_on_customer_ends_with_their_message_and_starts_next_response() -> None:
    inputs = [
        ClockInput(at(5), "staff_replied", seq=1),
        ClockInput(at(6), "status", seq=2, status="waiting_on_customer"),
        ClockInput(at(100), "customer_message", seq=3),
    ]
    state = replay(POLICY, HIGH, inputs)
    assert state is not None
    second = state.obligations[-1]
    assert (second.kind, second.started_at, second.running) == ("next_response", at(100), True)
    keys = [p.key for p in pending_events("TID-1", state, set())]
    assert ("TID-1/2", "clock_started", 0) in keys


def test_on_hold_is_not_ended_by_a_customer_message() -> None:
    inputs = [
        ClockInput(at(5), "status", seq=1, status="on_hold"),
        ClockInput(at(20), "customer_message", seq=2),
    ]
    state = replay(POLICY, HIGH, inputs)
    assert state is not None and len(state.obligations) == 1
    assert not state.obligations[0].running


def test_emitted_keys_are_not_owed_again() -> None:
    state = replay(POLICY, HIGH, [ClockInput(at(30), "staff_replied", seq=1)])
    assert state is not None
    keys = {p.key for p in pending_events("TID-1", state, set())}
    assert pending_events("TID-1", state, keys) == []


def test_reclassification_changes_the_target_from_the_original_start() -> None:
    before = replay(POLICY, HIGH, [])
    item = ClockInput(at(20), "reclassified", seq=7, level="commercial", severity="low")
    after = replay(POLICY, HIGH, [item])
    assert before is not None and after is not None
    (change,) = target_changes("TID-1", before, after, item.at, item.seq)
    assert change.key == ("TID-1/1", "target_changed", 7)
    event = change.event
    assert isinstance(event, TargetChanged)
    assert event.old_deadline == at(60)
    # low: 72 h on business days vs the level's 24 h: 24 h from Fri 10:00 -> Mon 10:00
    assert event.new_deadline == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert (event.old_target_seconds, event.new_target_seconds) == (3600, 86400)
    assert event.policy_version == event.old_policy_version == "2026.1"


def test_escalation_to_development_meets_and_starts_fourteen_days() -> None:
    state = replay(POLICY, HIGH, [ClockInput(at(20), "escalated", seq=1, level="development")])
    assert state is not None
    pending = pending_events("TID-1", state, set())
    kinds = [(p.key[0], p.key[1]) for p in pending]
    assert ("TID-1/1", "clock_met") in kinds and ("TID-1/2", "clock_started") in kinds
    dev = next(p.event for p in pending if p.key == ("TID-1/2", "clock_started", 0))
    assert isinstance(dev, ClockStarted)
    assert (dev.level, dev.deadline, dev.calendar) == ("development", at(20 + 14 * 24 * 60), "24x7")


def test_fire_marks_lateness() -> None:
    state = replay(POLICY, HIGH, [])
    assert state is not None
    warning, breach = timers_for("TID-1", state, set())
    w = fire(warning, at(45))
    b = fire(breach, at(62))
    assert isinstance(w, SlaWarning) and w.lateness_seconds == 0
    assert isinstance(b, SlaBreached) and b.lateness_seconds == 120
    assert (b.level, b.severity, b.deadline) == ("commercial", "high", at(60))
    assert timers_for("TID-1", state, {("TID-1/1", "warning", 0)}) == [breach]


def test_late_reply_does_not_undo_the_breach() -> None:
    state = replay(POLICY, HIGH, [ClockInput(at(70), "staff_replied", seq=1)])
    assert state is not None
    assert [t.kind for t in timers_for("TID-1", state, set())] == ["warning", "breach"]


FACTS = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.sampled_from(
            [
                ("customer_message", None),
                ("staff_replied", None),
                ("status", "on_hold"),
                ("status", "waiting_on_customer"),
                ("status", "open"),
                ("resolved", None),
                ("reopened", None),
            ]
        ),
    ),
    max_size=12,
)


@given(FACTS, st.randoms())
def test_arrival_order_does_not_matter(facts: list, rnd) -> None:  # type: ignore[no-untyped-def,type-arg]
    inputs = [
        ClockInput(at(m), kind, seq=n, status=status)  # type: ignore[arg-type]
        for n, (m, (kind, status)) in enumerate(facts, start=1)
    ]
    shuffled = list(inputs)
    rnd.shuffle(shuffled)
    a, b = replay(POLICY, HIGH, inputs), replay(POLICY, HIGH, shuffled)
    assert a is not None and b is not None
    assert pending_events("T", a, set()) == pending_events("T", b, set())
    assert timers_for("T", a, set()) == timers_for("T", b, set())


def test_due_index_keeps_the_soonest_and_says_when_to_wake() -> None:
    index = DueIndex(3)
    index.refill([at(5), at(1), at(9), at(7)])
    assert (len(index), index.head(), index.complete) == (3, at(1), False)
    assert index.offer(at(0)) is True  # sooner than the head: wake
    assert index.offer(at(8)) is False
    assert len(index) == 3
    index.drop_through(at(1))
    assert index.head() == at(5)
    index.drop_through(at(9))
    assert index.needs_refill()
    index.refill([])
    assert index.complete and not index.needs_refill()


def test_scheduler_wakes_only_after_commit_and_only_for_a_sooner_timer() -> None:
    from tidemark_sla_timer.scheduler import Scheduler
    from tidemark_sla_timer.settings import SlaTimerSettings

    scheduler = Scheduler(SlaTimerSettings())
    scheduler.index.refill([at(10)])
    scheduler.offer(at(20))
    scheduler.committed()
    assert not scheduler.wake.is_set()
    scheduler.offer(at(5))
    assert not scheduler.wake.is_set()  # not committed yet: the claim would not see it
    scheduler.committed()
    assert scheduler.wake.is_set() and scheduler.index.head() == at(5)


def test_reclassification_to_severity_null_moves_the_deadline_to_the_level_target() -> None:
    # ticket.reclassified always carries the full new class: its null severity clears
    before = replay(POLICY, HIGH, [])
    item = ClockInput(at(20), "reclassified", seq=3, level="commercial", severity=None)
    after = replay(POLICY, HIGH, [item])
    assert before is not None and after is not None
    assert after.severity is None
    (change,) = target_changes("TID-1", before, after, item.at, item.seq)
    event = change.event
    assert isinstance(event, TargetChanged) and event.severity is None
    # the level's 24 h of business days from Fri 10:00 -> Mon 10:00 (not high's 1 h)
    assert (event.old_deadline, event.new_deadline) == (
        at(60),
        datetime(2026, 11, 30, 10, tzinfo=UTC),
    )


def test_resumed_and_met_carry_the_policy_version() -> None:
    inputs = [
        ClockInput(at(10), "status", seq=1, status="on_hold"),
        ClockInput(at(40), "status", seq=2, status="open"),
        ClockInput(at(50), "staff_replied", seq=3),
    ]
    state = replay(POLICY, HIGH, inputs)
    assert state is not None
    by_kind = {p.key[1]: p.event for p in pending_events("TID-1", state, set())}
    resumed, met = by_kind["clock_resumed"], by_kind["clock_met"]
    assert isinstance(resumed, ClockResumed) and isinstance(met, ClockMet)
    assert resumed.policy_version == met.policy_version == "2026.1"


def _policy_pausing(*statuses: str) -> sla.Policy:
    data = POLICY.model_dump()
    data["version"] = "test-pausing"
    data["pausing_statuses"] = list(statuses)
    return build_policy(data)


WAIT_AND_ANSWER = [
    ClockInput(at(10), "status", seq=1, status="waiting_on_customer"),
    ClockInput(at(40), "customer_message", seq=2),
    ClockInput(at(41), "status", seq=3, status="open"),
]


def test_waiting_on_customer_does_not_pause_by_default() -> None:
    # SPEC 1.5: only on_hold pauses by default; staff asking a question is not a reply
    state = replay(POLICY, HIGH, WAIT_AND_ANSWER)
    assert state is not None
    (ob,) = state.obligations
    assert ob.running and ob.segments == ((T0, None),)
    assert ob.deadline() == at(60)
    kinds = [p.key[1] for p in pending_events("TID-1", state, set())]
    assert kinds == ["clock_started"]


def test_waiting_on_customer_pauses_when_the_policy_lists_it() -> None:
    state = replay(_policy_pausing("on_hold", "waiting_on_customer"), HIGH, WAIT_AND_ANSWER)
    assert state is not None
    (ob,) = state.obligations
    # paused 10..40; the customer's answer ends the wait: 30 min later than 11:00
    assert ob.running and ob.deadline() == at(90)
    kinds = [p.key[1] for p in pending_events("TID-1", state, set())]
    assert kinds == ["clock_started", "clock_paused", "clock_resumed"]


def test_a_policy_without_on_hold_does_not_pause_on_hold() -> None:
    on_hold = [ClockInput(at(10), "status", seq=1, status="on_hold")]
    state = replay(_policy_pausing(), HIGH, on_hold)
    assert state is not None and state.obligations[0].running


def test_leaving_a_pausing_status_for_one_that_does_not_pause_resumes() -> None:
    inputs = [
        ClockInput(at(10), "status", seq=1, status="on_hold"),
        ClockInput(at(40), "status", seq=2, status="waiting_on_customer"),
    ]
    state = replay(POLICY, HIGH, inputs)
    assert state is not None
    (ob,) = state.obligations
    assert ob.running and ob.deadline() == at(90)
