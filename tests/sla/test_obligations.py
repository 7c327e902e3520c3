"""Targets and response obligations from a ticket's events (SPEC 1.3, 1.5), hand-computed.

2026-11-27 is a Friday; 2026-11-28 a Saturday. The default policy's business days are
Mon-Fri 00:00-24:00 UTC without holidays.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tidekit.sla import (
    CustomerMessage,
    ObligationView,
    OnHold,
    Reclassified,
    Reopened,
    Resolved,
    Resumed,
    StaffReplied,
    Submitted,
    TicketClocks,
    TicketEvent,
    evolve,
    initial,
    load_policy,
    next_due,
    obligations,
    target_for,
)
from tidekit.sla.policy import build_policy

POLICY = load_policy()
H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def run(level: str, severity: str | None, *events: TicketEvent, **kw: str) -> TicketClocks:
    state = initial(POLICY, level, severity, **kw)  # type: ignore[arg-type]
    for event in events:
        state = evolve(state, event)
    return state


def only(state: TicketClocks, now: datetime | None = None) -> ObligationView:
    (view,) = obligations(state, now)
    return view


FRI_15 = utc(2026, 11, 27, 15)
SAT_10 = utc(2026, 11, 28, 10)


def test_commercial_medium_friday_afternoon() -> None:
    # level 24 h business and severity 24 h business: Fri 9 h + Mon 15 h = Mon 15:00;
    # warning at 75 % = 18 h: Fri 9 h + Mon 9 h = Mon 09:00
    view = only(run("commercial", "medium", Submitted(FRI_15)))
    assert (view.kind, view.started_at) == ("first_response", FRI_15)
    assert view.deadline == utc(2026, 11, 30, 15)
    assert view.warning_at == utc(2026, 11, 30, 9)
    assert (view.state, view.paused_seconds, view.policy_version) == ("running", 0, "2026.1")


def test_vip_on_saturday_runs_24x7() -> None:
    # vip_request: 4 h 24x7 from Sat 10:00 = Sat 14:00; warning 3 h = Sat 13:00
    view = only(run("vip_request", None, Submitted(SAT_10)))
    assert (view.deadline, view.warning_at) == (utc(2026, 11, 28, 14), utc(2026, 11, 28, 13))


def test_critical_on_saturday_beats_the_level_target() -> None:
    # commercial: level 24 h business from Sat = Mon 00:00 + 24 h = Tue 00:00;
    # severity critical: 1 h 24x7 = Sat 11:00; the earlier wins; warning 45 min = 10:45
    view = only(run("commercial", "critical", Submitted(SAT_10)))
    assert (view.deadline, view.warning_at) == (utc(2026, 11, 28, 11), utc(2026, 11, 28, 10, 45))


def test_non_commercial_ignores_severity() -> None:
    # non_commercial: 48 h business only: Fri 9 h + Mon 24 h = 33 h, Tue + 15 h = Tue 15:00;
    # warning 36 h: 33 h + 3 h = Tue 03:00. The "critical" severity plays no part.
    view = only(run("non_commercial", "critical", Submitted(FRI_15)))
    assert (view.deadline, view.warning_at) == (utc(2026, 12, 1, 15), utc(2026, 12, 1, 3))
    assert len(target_for(POLICY, "non_commercial", "critical").legs) == 1


def test_non_product_and_development() -> None:
    # non_product 72 h business: Fri 9 + Mon 24 + Tue 24 = 57, Wed + 15 = Wed 15:00
    assert only(run("non_product", "high", Submitted(FRI_15))).deadline == utc(2026, 12, 2, 15)
    # development: 14 days 24x7 = Fri 11 Dec 15:00; warning 10.5 days = Tue 8 Dec 03:00
    view = only(run("development", None, Submitted(FRI_15)))
    assert (view.deadline, view.warning_at) == (utc(2026, 12, 11, 15), utc(2026, 12, 8, 3))


def test_target_for_carries_duration_calendar_and_version() -> None:
    target = target_for(POLICY, "commercial", "high")
    assert target.duration == H and target.calendar.name == "24x7"
    assert target.policy_version == POLICY.version == "2026.1"
    assert target_for(POLICY, "partner", None).duration == 24 * H


def test_expired_entitlement_has_no_clock() -> None:
    state = run("commercial", "high", Submitted(FRI_15), entitlement="expired")
    assert obligations(state) == [] and next_due(state, FRI_15) is None


def test_met_by_the_first_staff_reply_and_late_reply_is_breached() -> None:
    on_time = run("commercial", "high", Submitted(FRI_15), StaffReplied(FRI_15 + 30 * M))
    view = only(on_time)
    assert (view.state, view.deadline, view.met_at) == ("met", FRI_15 + H, FRI_15 + 30 * M)
    at_deadline = run("commercial", "high", Submitted(FRI_15), StaffReplied(FRI_15 + H))
    assert only(at_deadline).state == "met"  # a reply at the deadline instant is on time
    late = run("commercial", "high", Submitted(FRI_15), StaffReplied(FRI_15 + 2 * H))
    assert only(late).state == "breached"
    running = run("commercial", "high", Submitted(FRI_15))
    assert only(running, FRI_15 + 59 * M).state == "running"
    assert only(running, FRI_15 + H).state == "breached"


def test_next_response_obligations() -> None:
    # reply at 15:30 meets the first; a customer message at 16:00 starts a next response
    # with the same target (1 h 24x7): due 17:00; a second customer message at 16:10 while
    # that reply is pending starts nothing new.
    state = run(
        "commercial",
        "high",
        Submitted(FRI_15),
        StaffReplied(FRI_15 + 30 * M),
        CustomerMessage(FRI_15 + H),
        CustomerMessage(FRI_15 + 70 * M),
    )
    first, second = obligations(state)
    assert first.state == "met"
    assert (second.kind, second.started_at, second.deadline) == (
        "next_response",
        FRI_15 + H,
        FRI_15 + 2 * H,
    )
    assert second.state == "running"


def test_several_pauses() -> None:
    # high: 1 h 24x7 from 15:00. Runs 15:00-15:20 (20 min), on hold until 16:00, runs
    # 16:00-16:10 (10 min), on hold until 17:00, then needs 30 min more: due 17:30.
    # warning 45 min: 20 + 10 + 15 = at 17:15. Paused 40 + 50 = 90 min = 5400 s.
    events: list[TicketEvent] = [
        Submitted(FRI_15),
        OnHold(FRI_15 + 20 * M),
        Resumed(FRI_15 + H),
        OnHold(FRI_15 + 70 * M),
    ]
    paused = run("commercial", "high", *events)
    view = only(paused, FRI_15 + 90 * M)
    assert (view.state, view.deadline, view.warning_at) == ("paused", None, None)
    assert next_due(paused, FRI_15 + 90 * M) is None
    resumed = evolve(paused, Resumed(FRI_15 + 2 * H))
    view = only(resumed, FRI_15 + 150 * M)
    assert view.deadline == FRI_15 + 150 * M
    assert view.warning_at == FRI_15 + 135 * M
    assert view.paused_seconds == 5400
    assert view.state == "breached"  # as of its own deadline
    assert next_due(resumed, FRI_15 + 2 * H) == (FRI_15 + 135 * M, "warning")
    assert next_due(resumed, FRI_15 + 140 * M) == (FRI_15 + 150 * M, "breach")


def test_paused_after_the_deadline_stays_breached() -> None:
    # due 16:00; put on hold at 17:00: the target was used up before the pause
    state = run("commercial", "high", Submitted(FRI_15), OnHold(FRI_15 + 2 * H))
    view = only(state)
    assert (view.state, view.deadline) == ("breached", FRI_15 + H)


def test_pauses_on_business_days_calendar() -> None:
    # commercial/medium from Fri 15:00: runs Fri 15:00-20:00 (5 h); on hold Fri 20:00 to
    # Tue 00:00 (so Monday does not count); then 19 h more: Tue 19:00
    state = run(
        "commercial",
        "medium",
        Submitted(FRI_15),
        OnHold(FRI_15 + 5 * H),
        Resumed(utc(2026, 12, 1)),
    )
    assert only(state).deadline == utc(2026, 12, 1, 19)


def test_reopen_starts_a_new_obligation_from_the_reopen_time() -> None:
    reopen_at = utc(2026, 12, 1, 9)
    state = run(
        "commercial",
        "medium",
        Submitted(FRI_15),
        StaffReplied(FRI_15 + H),
        Resolved(FRI_15 + 2 * H),
        CustomerMessage(FRI_15 + 3 * H),  # on a resolved ticket: no clock
        Reopened(reopen_at),
    )
    first, second = obligations(state)
    assert first.state == "met"
    # Tue 09:00 + 24 h business = Wed 09:00
    assert (second.kind, second.started_at, second.deadline) == (
        "next_response",
        reopen_at,
        utc(2026, 12, 2, 9),
    )


def test_resolving_meets_a_running_clock() -> None:
    state = run("commercial", "medium", Submitted(FRI_15), Resolved(FRI_15 + H))
    assert only(state).state == "met"


def test_reclassification_to_a_tighter_target_counts_from_the_original_start() -> None:
    # medium from Fri 15:00: Mon 15:00. Re-classified high at 15:30: 1 h 24x7 from the
    # ORIGINAL start 15:00 = 16:00 (not 16:30)
    state = run("commercial", "medium", Submitted(FRI_15))
    state = evolve(state, Reclassified(FRI_15 + 30 * M, severity="high"))
    view = only(state)
    assert (view.deadline, view.warning_at) == (FRI_15 + H, FRI_15 + 45 * M)
    # re-classified at 17:00 instead: the new deadline has already passed
    late = evolve(
        run("commercial", "medium", Submitted(FRI_15)),
        Reclassified(FRI_15 + 2 * H, severity="high"),
    )
    assert only(late).state == "breached"


def test_reclassification_to_a_looser_target() -> None:
    # high from Fri 15:00 (due 16:00); re-classified low at 15:30: earlier of level 24 h
    # business (Mon 15:00) and low 72 h business (Wed 15:00) = Mon 15:00
    state = run(
        "commercial", "high", Submitted(FRI_15), Reclassified(FRI_15 + 30 * M, severity="low")
    )
    assert only(state).deadline == utc(2026, 11, 30, 15)
    # then the level becomes non_commercial: severity ignored, 48 h business = Tue 15:00
    state = evolve(state, Reclassified(FRI_15 + 40 * M, level="non_commercial"))
    view = only(state)
    assert view.deadline == utc(2026, 12, 1, 15)
    assert [leg.source for leg in view.target.legs] == ["level non_commercial"]


def test_warning_share_comes_from_the_policy() -> None:
    data = POLICY.model_dump()
    data["warning_share"] = 0.5
    data["version"] = "test-half"
    half = build_policy(data)
    state = evolve(initial(half, "vip_request", None), Submitted(SAT_10))
    view = only(state)
    # 4 h 24x7, warning at 2 h
    assert (view.warning_at, view.policy_version) == (SAT_10 + 2 * H, "test-half")


def test_state_is_immutable_and_evolve_returns_a_new_state() -> None:
    before = initial(POLICY, "commercial", "medium")
    after = evolve(before, Submitted(FRI_15))
    assert before.obligations == () and len(after.obligations) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.level = "partner"  # type: ignore[misc]


def test_events_before_submission_and_duplicates_are_ignored() -> None:
    state = run(
        "commercial",
        "high",
        CustomerMessage(FRI_15 - H),
        Submitted(FRI_15),
        Submitted(FRI_15 + M),
        StaffReplied(FRI_15 + 2 * M),
        StaffReplied(FRI_15 + 3 * M),
    )
    assert [v.state for v in obligations(state)] == ["met"]


MON_10 = utc(2026, 11, 30, 10)  # Monday


def test_reclassification_with_severity_null_clears_it() -> None:
    # commercial/high from Mon 10:00: 1 h on 24x7 (due 11:00). Re-classified at 10:30 to
    # commercial with severity null: the level leg alone, 24 h of business days from the
    # ORIGINAL start = Tue 10:00; warning at 75 % = 18 h = Tue 04:00
    state = run(
        "commercial", "high", Submitted(MON_10), Reclassified(MON_10 + 30 * M, severity=None)
    )
    view = only(state)
    assert (view.deadline, view.warning_at) == (utc(2026, 12, 1, 10), utc(2026, 12, 1, 4))
    assert state.severity is None
    assert [leg.source for leg in view.target.legs] == ["level commercial"]


def test_reclassification_keeps_what_it_does_not_mention() -> None:
    # a new level alone keeps the severity (high: still due 11:00) ...
    state = run(
        "commercial", "high", Submitted(MON_10), Reclassified(MON_10 + 30 * M, level="partner")
    )
    assert (state.level, state.severity) == ("partner", "high")
    assert only(state).deadline == MON_10 + H
    # ... and a new severity alone keeps the level
    state = evolve(state, Reclassified(MON_10 + 40 * M, severity="low"))
    assert (state.level, state.severity) == ("partner", "low")
    assert only(state).deadline == utc(2026, 12, 1, 10)  # partner 24 h beats low 72 h
