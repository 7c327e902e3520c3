"""The intake lifecycle state machine (SPEC 2), pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidekit.events.intake import Requester, TicketSubmitted
from tidekit.sla import load_policy
from tidemark_intake.tickets.lifecycle import (
    STAFF_MOVES,
    AskSupervisor,
    ChangeStatus,
    Command,
    CustomerMessage,
    IllegalTransition,
    Rate,
    Reopen,
    StaffMessage,
    TicketState,
    decide,
    evolve,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
CALENDAR = load_policy().calendars["business_days"]  # a resolution's business time


def fresh() -> TicketState:
    submitted = TicketSubmitted(
        tid="TID-1",
        channel="web",
        requester=Requester(email="ada@example.com"),
        subject="s",
        body="b",
        submitted_at=NOW,
    )
    return evolve(TicketState("TID-1", "new", 0), submitted)


def run(t: TicketState, *commands: Command) -> TicketState:
    for c in commands:
        for e in decide(t, c, NOW, CALENDAR):
            t = evolve(t, e)
    return t


def msg() -> CustomerMessage:
    return CustomerMessage("ada@example.com", "more info", "web", "m1")


def test_resolve_rate_reopen_path() -> None:
    t = run(fresh(), ChangeStatus("open", "system"), ChangeStatus("waiting_on_customer", "agent"))
    assert t.status == "waiting_on_customer"
    t = run(t, msg())
    assert t.status == "open", "a customer answer hands the ticket back to staff"
    t = run(t, ChangeStatus("resolved", "agent"), Rate(5, "great"))
    assert (t.status, t.rated) == ("resolved", True)
    with pytest.raises(IllegalTransition):
        run(t, Rate(4, "again"))
    t = run(t, AskSupervisor("please check"), Reopen("ada@example.com"))
    assert t.status == "open"


def test_illegal_transition_names_status_and_allowed_moves() -> None:
    t = run(
        fresh(),
        ChangeStatus("open", "system"),
        ChangeStatus("closed", "agent", close_reason="duplicate"),
    )
    with pytest.raises(IllegalTransition) as err:
        run(t, ChangeStatus("on_hold", "agent"))
    assert "closed" in str(err.value) and err.value.status == "closed"
    with pytest.raises(IllegalTransition, match="reopen"):
        run(t, msg())
    with pytest.raises(IllegalTransition):
        run(fresh(), Rate(3, ""))
    with pytest.raises(IllegalTransition):
        run(fresh(), Reopen("x"))


def test_internal_note_is_a_staff_reply_with_internal_visibility() -> None:
    events = decide(
        run(fresh(), ChangeStatus("open", "system")),
        StaffMessage("agent-1", "check logs", "internal", "m2"),
        NOW,
    )
    assert events[0].event_type == "ticket.staff_replied"
    assert events[0].visibility == "internal"  # type: ignore[attr-defined]


commands = st.one_of(
    st.builds(
        CustomerMessage, st.just("a@example.com"), st.just("b"), st.just("web"), st.just("m")
    ),
    st.builds(
        StaffMessage,
        st.just("agent"),
        st.just("b"),
        st.sampled_from(["public", "internal"]),
        st.just("m"),
    ),
    st.builds(
        ChangeStatus,
        st.sampled_from(list(STAFF_MOVES)),
        st.just("agent"),
        st.none(),
        st.sampled_from(["duplicate", None]),
    ),
    st.builds(Reopen, st.just("a@example.com")),
    st.builds(Rate, st.integers(1, 5), st.just("")),
    st.builds(AskSupervisor, st.just("r")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=25))
def test_any_command_sequence_keeps_the_machine_consistent(seq: list[Command]) -> None:
    t = fresh()
    for command in seq:
        before = t
        try:
            events = decide(t, command, NOW, CALENDAR)
        except IllegalTransition as exc:
            assert exc.status == before.status
            continue
        for e in events:
            assert e.stream_id() == "TID-1"
            t = evolve(t, e)
        assert t.version == before.version + len(events)
        if isinstance(command, ChangeStatus):
            assert t.status == command.to
        assert t.status in STAFF_MOVES
