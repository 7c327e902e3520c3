"""Resolution time for analytics (SPEC 1.5), by hand-computed numbers: real seconds from
submission, the same span on the governing target's calendar, and the time on hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

import pytest

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.events.intake import (
    Requester,
    StatusChanged,
    TicketClosed,
    TicketReopened,
    TicketResolved,
    TicketSubmitted,
)
from tidekit.events.vocabulary import Status
from tidemark_intake.tickets import lifecycle, resolution
from tidemark_intake.tickets.lifecycle import ChangeStatus, TicketState

POLICY = sla.load_policy()
FRI_15 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
MON_15 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)


def submitted(at: datetime) -> TicketSubmitted:
    return TicketSubmitted(
        tid="TID-9",
        channel="web",
        requester=Requester(email="ada@example.com"),
        subject="s",
        body="b",
        submitted_at=at,
    )


def moved(a: Status, b: Status, at: datetime) -> StatusChanged:
    return StatusChanged(tid="TID-9", from_status=a, to_status=b, changed_by="agent", changed_at=at)


def history(*events: DomainEvent) -> TicketState:
    return reduce(lifecycle.evolve, events, TicketState(tid="TID-9", status="new", version=0))


def resolve(t: TicketState, at: datetime, calendar: sla.Calendar) -> TicketResolved:
    (event,) = lifecycle.decide(t, ChangeStatus(to="resolved", by="agent"), at, calendar)
    assert isinstance(event, TicketResolved)
    return event


def test_friday_to_monday_with_an_hour_on_hold_on_business_days() -> None:
    t = history(
        submitted(FRI_15),
        moved("new", "open", FRI_15),
        moved("open", "on_hold", FRI_15 + H),
        moved("on_hold", "open", FRI_15 + 2 * H),
    )
    unclassified = resolution.calendar_for(POLICY, None, None)
    assert unclassified.name == "business_days"  # non_commercial's calendar
    event = resolve(t, MON_15, unclassified)
    # 3 days of 24 h; Fri 15:00-24:00 (9 h) + Mon 00:00-15:00 (15 h); Fri 16:00-17:00
    assert (
        event.resolution_seconds,
        event.resolution_business_seconds,
        event.on_hold_seconds,
    ) == (259_200, 86_400, 3_600)


def test_a_reopen_cycle_counts_from_the_submission_and_a_hold_ends_at_the_resolution() -> None:
    tue_9 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    wed_9 = tue_9 + 24 * H
    t = history(
        submitted(tue_9),
        moved("new", "open", tue_9),
        moved("open", "on_hold", tue_9 + H),
        TicketResolved(tid="TID-9", resolved_by="agent", resolved_at=tue_9 + 2 * H),  # 1 h held
        TicketReopened(tid="TID-9", reopened_by="customer", reopened_at=wed_9),
        moved("open", "on_hold", wed_9 + H),
    )
    business_days = POLICY.calendars["business_days"]
    event = resolve(t, wed_9 + 3 * H, business_days)  # straight from on_hold: 2 h more
    # Tue 09:00 to Wed 12:00 is 27 h, all of it on business days; 1 h + 2 h on hold
    assert (
        event.resolution_seconds,
        event.resolution_business_seconds,
        event.on_hold_seconds,
    ) == (97_200, 97_200, 10_800)


def test_business_time_is_on_the_governing_targets_calendar() -> None:
    fri_22, sat_2 = datetime(2026, 11, 27, 22, tzinfo=UTC), datetime(2026, 11, 28, 2, tzinfo=UTC)
    t = history(submitted(fri_22), moved("new", "open", fri_22))
    round_the_clock = resolution.calendar_for(POLICY, "commercial", "high")  # the 1 h leg
    assert round_the_clock.name == "24x7"
    assert resolve(t, sat_2, round_the_clock).resolution_business_seconds == 4 * 3_600
    level_only = resolution.calendar_for(POLICY, "commercial", None)
    assert resolve(t, sat_2, level_only).resolution_business_seconds == 2 * 3_600  # Fri 22-24


def test_closing_ends_a_hold_too() -> None:
    t = history(
        submitted(FRI_15),
        moved("new", "open", FRI_15),
        moved("open", "on_hold", FRI_15 + H),
        TicketClosed(tid="TID-9", reason="other", closed_by="agent", closed_at=FRI_15 + 3 * H),
    )
    assert (t.on_hold_since, t.on_hold_before) == (None, 2 * H)


def test_resolving_without_a_calendar_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="calendar"):
        lifecycle.decide(
            history(submitted(FRI_15), moved("new", "open", FRI_15)),
            ChangeStatus(to="resolved", by="agent"),
            MON_15,
        )
