"""The timeline's causal order across services (tidekit.ops.causal): pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidekit.ops.causal import TimelineEvent, causal_order

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ev(service: str, position: int, eid: str, seconds: float, cause: str | None = None):
    return TimelineEvent(service, position, eid, f"{service}.thing", 1,
                         T0 + timedelta(seconds=seconds), cause, None, {})  # fmt: skip


def test_an_effect_follows_its_cause_even_when_its_clock_says_earlier() -> None:
    submitted = ev("intake", 1, "a", 10)
    classified = ev("classifier", 7, "b", 9.5, cause="a")  # its clock runs behind intake's
    started = ev("sla-timer", 3, "c", 9.9, cause="b")
    ordered = causal_order([started, classified, submitted])
    assert [e.event_id for e in ordered] == ["a", "b", "c"]


def test_unrelated_events_go_by_time_and_a_service_keeps_its_store_order() -> None:
    first = ev("intake", 1, "a", 0)
    other = ev("notifier", 4, "n", 5)
    later_but_stamped_earlier = ev("intake", 2, "z", -1)  # same store: position wins
    assert [e.event_id for e in causal_order([other, later_but_stamped_earlier, first])] == [
        "a",
        "z",
        "n",
    ]


def test_a_cause_from_outside_the_ticket_or_a_cycle_loses_no_event() -> None:
    outside = ev("escalation", 1, "e", 3, cause="not-here")  # placed as if it had no cause
    x = ev("classifier", 1, "x", 2, cause="y")
    y = ev("sla-timer", 1, "y", 1, cause="x")  # corrupt data: the cycle goes by time, last
    assert [e.event_id for e in causal_order([outside, x, y])] == ["e", "y", "x"]
