"""Properties of routing over random event sequences (pure, hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tidekit.events.escalation import TicketEscalated, TicketQueued
from tidemark_escalation.domain import TicketState, handle

from .factories import IN_TIER2, breached, classified, ctx, review, warned

# instants over two weeks, so both sides of tier-2 hours and weekends come up
instants = st.integers(0, 14 * 24 * 4).map(lambda q: IN_TIER2 + timedelta(minutes=15 * q))
facts = st.one_of(
    st.builds(lambda n: ("breach", n), st.integers(1, 3)),
    st.builds(lambda n: ("warning", n), st.integers(1, 3)),
    st.just(("review", 0)),
)


@settings(max_examples=300)
@given(
    severity=st.sampled_from(["critical", "high", "medium", "low", None]),
    steps=st.lists(st.tuples(facts, instants), max_size=25),
    first=instants,
)
def test_each_obligation_moves_a_ticket_at_most_once_per_kind(
    severity: str | None, steps: list[tuple[tuple[str, int], object]], first: object
) -> None:
    state, events = handle(TicketState(tid="TID-1"), classified(severity=severity), ctx(first))  # type: ignore[arg-type]
    moves_by_cause: dict[tuple[str, int], int] = {}
    for (kind, n), at in sorted(steps, key=lambda s: s[1]):  # type: ignore[arg-type, return-value]
        fact = breached(n=n) if kind == "breach" else warned(n=n) if kind == "warning" else review()
        before = state
        state, decided = handle(state, fact, ctx(at))  # type: ignore[arg-type]
        events += decided
        if decided and kind != "review":
            moves_by_cause[(kind, n)] = moves_by_cause.get((kind, n), 0) + 1
        # every decision is a queued event, led by an escalation exactly when the queue changes
        queued = [e for e in decided if isinstance(e, TicketQueued)]
        escalated = [e for e in decided if isinstance(e, TicketEscalated)]
        assert len(queued) == (1 if decided else 0)
        assert len(escalated) == (1 if decided and queued[0].queue != before.queue else 0)
        if decided:
            assert state.queue == queued[0].queue and queued[0].from_queue == before.queue
        else:
            assert state.queue == before.queue
    assert all(count == 1 for count in moves_by_cause.values())
    # a ticket never goes back down to tier 1 once it has left it
    queues = [e.queue for e in events if isinstance(e, TicketQueued)]
    if "tier1" in queues:
        left = next((i for i, q in enumerate(queues) if q != "tier1"), len(queues))
        assert "tier1" not in queues[left:]
