"""Hand-over to development (SPEC 1.1 `development`: 14 days, 24x7), hand-computed.

2026-11-27 is a Friday. The default policy's business days are Mon-Fri 00:00-24:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tidekit.sla import (
    CustomerMessage,
    Escalated,
    OnHold,
    Resumed,
    StaffReplied,
    Submitted,
    TicketEvent,
    evolve,
    initial,
    load_policy,
    next_due,
    obligations,
)

POLICY = load_policy()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def run(*events: TicketEvent, entitlement: str = "active"):  # type: ignore[no-untyped-def]
    state = initial(POLICY, "commercial", "medium", entitlement)  # type: ignore[arg-type]
    for event in events:
        state = evolve(state, event)
    return state


def test_hand_over_meets_the_open_clock_and_starts_fourteen_days_24x7() -> None:
    # submitted Fri 15:00 (commercial/medium: due Mon 15:00); handed over Fri 17:00
    state = run(Submitted(utc(2026, 11, 27, 15)), Escalated(utc(2026, 11, 27, 17), "development"))
    first, dev = obligations(state, utc(2026, 11, 28))
    assert (first.state, first.met_at) == ("met", utc(2026, 11, 27, 17))
    assert dev.kind == "next_response"
    assert dev.started_at == utc(2026, 11, 27, 17)
    # 14 days of 24x7 from Fri 27 Nov 17:00 -> Fri 11 Dec 17:00 (weekends count)
    assert dev.deadline == utc(2026, 12, 11, 17)
    # 75 % of 14 days = 10.5 days -> Tue 8 Dec 05:00
    assert dev.warning_at == utc(2026, 12, 8, 5)
    assert dev.state == "running"
    assert state.level == "development"
    assert next_due(state, utc(2026, 11, 28)) == (utc(2026, 12, 8, 5), "warning")


def test_later_messages_use_the_development_target() -> None:
    state = run(
        Submitted(utc(2026, 11, 27, 15)),
        Escalated(utc(2026, 11, 27, 17), "development"),
        StaffReplied(utc(2026, 11, 30, 9)),
        CustomerMessage(utc(2026, 11, 30, 10)),
    )
    *_, last = obligations(state)
    assert last.deadline == utc(2026, 12, 14, 10)  # 14 x 24 h after Mon 30 Nov 10:00


def test_hand_over_while_on_hold_starts_paused() -> None:
    state = run(
        Submitted(utc(2026, 11, 27, 15)),
        OnHold(utc(2026, 11, 27, 16)),
        Escalated(utc(2026, 11, 27, 17), "development"),
    )
    dev = obligations(state, utc(2026, 11, 28))[-1]
    assert (dev.state, dev.deadline) == ("paused", None)
    state = evolve(state, Resumed(utc(2026, 11, 28, 17)))
    dev = obligations(state)[-1]
    assert dev.deadline == utc(2026, 12, 12, 17)  # 14 days from the resume (one day paused)


def test_expired_entitlement_gets_no_development_clock() -> None:
    state = run(
        Submitted(utc(2026, 11, 27, 15)),
        Escalated(utc(2026, 11, 27, 17), "development"),
        entitlement="expired",
    )
    assert obligations(state, utc(2026, 11, 28)) == []
