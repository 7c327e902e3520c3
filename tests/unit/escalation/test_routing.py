"""Each routing rule of the shipped default, inside and outside tier-2 hours (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidekit.events.escalation import TicketEscalated, TicketQueued
from tidemark_escalation.domain import (
    Refused,
    StaffEscalation,
    TicketState,
    decide,
    handle,
    in_hours,
    next_opening,
)

from .factories import (
    EVENING,
    IN_TIER2,
    POLICY,
    SATURDAY,
    breached,
    classified,
    ctx,
    in_queue,
    review,
    warned,
)

TIER2 = POLICY.calendars["tier2"]


def only_queued(events: list[object]) -> TicketQueued:
    queued = [e for e in events if isinstance(e, TicketQueued)]
    assert len(queued) == 1, events
    return queued[0]


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        (datetime(2026, 11, 23, 5, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 23, 6, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), True),  # Friday
        (SATURDAY, False),
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), False),  # Sunday
    ],
)
def test_tier2_hours_are_the_policy_calendar(instant: datetime, open_: bool) -> None:
    assert in_hours(TIER2, instant) is open_


def test_next_opening_of_tier2() -> None:
    assert next_opening(TIER2, EVENING) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert next_opening(TIER2, SATURDAY) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert next_opening(TIER2, IN_TIER2) == IN_TIER2


@pytest.mark.parametrize("now", [IN_TIER2, EVENING, SATURDAY])
@pytest.mark.parametrize("severity", ["medium", "low", None])
def test_classified_lands_in_tier1_by_default(now: datetime, severity: str | None) -> None:
    events = decide(TicketState(tid="TID-1"), classified(severity=severity), ctx(now))
    assert [type(e) for e in events] == [TicketQueued]
    q = only_queued(events)
    assert (q.queue, q.from_queue, q.rule, q.note) == ("tier1", None, "default:tier1", None)
    assert q.queued_at == now and q.submitted_at == classified().submitted_at


@pytest.mark.parametrize("severity", ["critical", "high"])
def test_critical_and_high_go_to_tier2_during_tier2_hours(severity: str) -> None:
    q = only_queued(decide(TicketState(tid="TID-1"), classified(severity=severity), ctx(IN_TIER2)))
    assert (q.queue, q.rule) == ("tier2", "classified:critical-high->tier2")


@pytest.mark.parametrize(
    ("now", "opens"), [(EVENING, "2026-11-24T06:00:00Z"), (SATURDAY, "2026-11-30T06:00:00Z")]
)
def test_critical_outside_tier2_hours_waits_in_tier1_with_a_note(now: datetime, opens: str) -> None:
    q = only_queued(decide(TicketState(tid="TID-1"), classified(severity="critical"), ctx(now)))
    assert (q.queue, q.rule) == ("tier1", "classified:critical-high->tier1-until-tier2-opens")
    assert q.note is not None and opens in q.note


def test_urgent_flag_travels_with_the_ticket() -> None:
    q = only_queued(decide(TicketState(tid="TID-1"), classified(urgent=True), ctx(IN_TIER2)))
    assert q.urgent is True


def test_a_second_classification_moves_nothing() -> None:
    state = in_queue("tier2")
    assert decide(state, classified(severity="low"), ctx(IN_TIER2)) == []


def test_breach_in_tier1_goes_to_tier2_during_tier2_hours() -> None:
    events = decide(in_queue("tier1"), breached(), ctx(IN_TIER2))
    assert [type(e) for e in events] == [TicketEscalated, TicketQueued]
    esc = events[0]
    assert isinstance(esc, TicketEscalated)
    assert (esc.from_queue, esc.to_queue, esc.rule) == ("tier1", "tier2", "breach:tier1->tier2")
    assert esc.escalated_by == "system" and esc.level == "commercial"
    assert only_queued(events).from_queue == "tier1"


@pytest.mark.parametrize("now", [EVENING, SATURDAY])
def test_breach_in_tier1_goes_to_supervisor_outside_tier2_hours(now: datetime) -> None:
    q = only_queued(decide(in_queue("tier1"), breached(), ctx(now)))
    assert (q.queue, q.rule) == ("supervisor", "breach:tier1->supervisor")


@pytest.mark.parametrize("now", [IN_TIER2, EVENING])
def test_breach_in_tier2_goes_to_supervisor_at_any_hour(now: datetime) -> None:
    q = only_queued(decide(in_queue("tier2"), breached(), ctx(now)))
    assert (q.queue, q.rule) == ("supervisor", "breach:tier2->supervisor")


@pytest.mark.parametrize("queue", ["supervisor", "development"])
def test_breach_in_supervisor_or_development_stays(queue: str) -> None:
    assert decide(in_queue(queue), breached(), ctx(IN_TIER2)) == []


def test_a_breach_acts_once_per_obligation() -> None:
    state, first = handle(in_queue("tier1"), breached(n=1), ctx(EVENING))
    assert only_queued(first).queue == "supervisor"
    # The same obligation's breach again (another event id, or after a rebuild): nothing.
    state2, again = handle(state, breached(n=1), ctx(EVENING))
    assert again == [] and state2 == state
    # A later obligation's breach is a new fact (here: already in supervisor, so it stays).
    _, later = handle(state, breached(n=2), ctx(EVENING))
    assert later == []


def test_a_breach_before_the_ticket_is_queued_moves_nothing() -> None:
    assert decide(TicketState(tid="TID-1"), breached(), ctx(IN_TIER2)) == []


@pytest.mark.parametrize(("now", "moves"), [(IN_TIER2, True), (EVENING, False)])
def test_warning_moves_critical_tier1_tickets_to_tier2_only_in_tier2_hours(
    now: datetime, moves: bool
) -> None:
    events = decide(in_queue("tier1", severity="critical"), warned(), ctx(now))
    if moves:
        assert only_queued(events).rule == "warning:tier1-critical-high->tier2"
    else:
        assert events == []
    assert decide(in_queue("tier1", severity="medium"), warned(), ctx(now)) == []


@pytest.mark.parametrize("now", [IN_TIER2, SATURDAY])
@pytest.mark.parametrize("queue", ["tier1", "tier2"])
def test_review_request_goes_to_supervisor(now: datetime, queue: str) -> None:
    q = only_queued(decide(in_queue(queue), review(), ctx(now)))
    assert (q.queue, q.from_queue, q.rule) == ("supervisor", queue, "review:supervisor")


def test_review_after_resolution_requeues_in_supervisor() -> None:
    from tidekit.events.intake import TicketResolved

    state, _ = handle(
        in_queue("supervisor"),
        TicketResolved(tid="TID-1", resolved_by="ann", resolved_at=IN_TIER2),
        ctx(IN_TIER2),
    )
    assert state.waiting is False
    events = decide(state, review(), ctx(IN_TIER2))
    assert [type(e) for e in events] == [TicketQueued]
    assert decide(in_queue("supervisor"), review(), ctx(IN_TIER2)) == []


def staff(to: str, reason: str = "needs a fix in the product") -> StaffEscalation:
    return StaffEscalation(tid="TID-1", to=to, reason=reason, staff_id="ann")  # type: ignore[arg-type]


@pytest.mark.parametrize("to", ["tier2", "supervisor"])
def test_staff_escalate_with_reason(to: str) -> None:
    events = decide(in_queue("tier1"), staff(to, "customer is stuck"), ctx(SATURDAY))
    esc, q = events
    assert isinstance(esc, TicketEscalated) and isinstance(q, TicketQueued)
    assert (esc.to_queue, esc.reason, esc.rule, esc.escalated_by) == (
        to,
        "customer is stuck",
        f"staff:{to}",
        "ann",
    )


@pytest.mark.parametrize("level", ["non_commercial", "non_product"])
@pytest.mark.parametrize("queue", ["tier1", "tier2", "supervisor"])
def test_development_refused_for_levels_without_the_right(level: str, queue: str) -> None:
    with pytest.raises(Refused) as refused:
        decide(in_queue(queue, level=level), staff("development"), ctx(IN_TIER2))
    assert refused.value.status == 409
    assert level in refused.value.detail and "development" in refused.value.detail


def test_commercial_vip_goes_directly_to_development() -> None:
    events = decide(in_queue("tier1", level="commercial_vip"), staff("development"), ctx(EVENING))
    esc = events[0]
    assert isinstance(esc, TicketEscalated)
    assert (esc.to_queue, esc.level, esc.rule) == (
        "development",
        "commercial_vip",
        "staff:development-direct",
    )


@pytest.mark.parametrize("level", ["vip_request", "partner", "commercial"])
def test_other_entitled_levels_reach_development_through_tier2(level: str) -> None:
    with pytest.raises(Refused) as refused:
        decide(in_queue("tier1", level=level), staff("development"), ctx(IN_TIER2))
    assert refused.value.status == 409 and "tier2" in refused.value.detail
    events = decide(in_queue("tier2", level=level), staff("development"), ctx(IN_TIER2))
    assert only_queued(events).queue == "development"


def test_staff_refusals_for_unknown_ticket_and_same_queue() -> None:
    with pytest.raises(Refused) as unknown:
        decide(TicketState(tid="TID-1"), staff("tier2"), ctx(IN_TIER2))
    assert unknown.value.status == 404
    with pytest.raises(Refused) as same:
        decide(in_queue("tier2"), staff("tier2"), ctx(IN_TIER2))
    assert same.value.status == 409
