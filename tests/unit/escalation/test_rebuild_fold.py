"""escalation.rebuild.QueueFold gives the state the handlers saved: it folds each consumed
fact and the events decided on it, and forgets what a fact left unqueued, as the handler
(which saves only a queued ticket) does; deadlines are learnt queued or not."""

from __future__ import annotations

from tidekit.events.base import DomainEvent
from tidekit.events.intake import Requester, TicketResolved, TicketSubmitted
from tidekit.events.sla import ClockMet, ClockStarted
from tidemark_escalation.domain import TicketState, handle
from tidemark_escalation.rebuild import QueueFold

from .factories import IN_TIER2, SUBMITTED, breached, classified, ctx, warned


def _resolved(tid: str) -> TicketResolved:
    return TicketResolved(tid=tid, resolved_at=SUBMITTED, resolved_by="staff-1")


def _handled(facts: list[DomainEvent]) -> tuple[dict[str, TicketState], QueueFold]:
    """(what the handlers saved, the fold of the facts and their decisions as recorded)."""
    saved: dict[str, TicketState] = {}
    fold = QueueFold()
    for fact in facts:
        tid = fact.stream_id()
        state = saved.get(tid, TicketState(tid=tid))
        new, decided = handle(state, fact, ctx(IN_TIER2))
        if new != state and new.queue is not None:
            saved[tid] = new
        fold.apply(fact, foreign=True)
        for event in decided:
            fold.apply(event, foreign=False)
    return saved, fold


def test_the_fold_saves_what_the_handlers_saved() -> None:
    saved, fold = _handled([
        warned("TID-2"),  # before it is queued: the handler does not save it
        classified("TID-1"),
        classified("TID-2", urgent=True),
        breached("TID-1"),  # moves TID-1
        breached("TID-1"),  # acted on once only
        _resolved("TID-2"),
        _resolved("TID-3"),  # never queued: no row
    ])  # fmt: skip
    _, queue_rows, _ = fold.take_dirty()
    assert fold.saved == saved
    assert set(saved) == {"TID-1", "TID-2"} and [r[0] for r in queue_rows] == ["TID-1", "TID-2"]
    assert saved["TID-1"].acted_on == {"breach:TID-1/1"} and saved["TID-1"].queue != "tier1"
    assert saved["TID-2"].acted_on == frozenset() and not saved["TID-2"].waiting


def test_a_deadline_is_learnt_before_the_ticket_is_queued_and_ends_when_met() -> None:
    started = ClockStarted(tid="TID-1", obligation_id="TID-1/1", kind="first_response",
                           level="commercial", severity="medium", started_at=SUBMITTED,
                           deadline=IN_TIER2, warning_at=SUBMITTED, target_seconds=3600,
                           calendar="business", policy_version="2026.1")  # fmt: skip
    _, fold = _handled([started])
    assert fold.take_dirty()[1:] == ([], [("TID-1", "TID-1/1", IN_TIER2)])  # not queued yet
    _, fold = _handled([started, classified("TID-1")])
    _, queue_rows, due_rows = fold.take_dirty()
    assert due_rows == [("TID-1", "TID-1/1", IN_TIER2)] and queue_rows[0][-1] == IN_TIER2
    met = ClockMet(tid="TID-1", obligation_id="TID-1/1", met_at=IN_TIER2, deadline=IN_TIER2,
                   elapsed_seconds=60)  # fmt: skip
    fold.apply(met, foreign=True)
    _, queue_rows, due_rows = fold.take_dirty()
    assert due_rows == [] and queue_rows[0][-1] is None


def test_a_board_only_event_recorded_between_a_fact_and_its_decision_changes_nothing() -> None:
    """Found by the chaos run: escalation records ticket.submitted for the board alone, from
    another topic's partition, so it may be recorded between ticket.classified and the
    ticket.queued decided on it; the live handler leaves the queue state alone for it."""
    fact = classified("TID-1")
    _, decided = handle(TicketState(tid="TID-1"), fact, ctx(IN_TIER2))
    board_only = TicketSubmitted(
        tid="TID-1", channel="web", requester=Requester(email="ada@example.com"),
        subject="down", body="site down", submitted_at=SUBMITTED,
    )  # fmt: skip
    fold = QueueFold()
    fold.apply(fact, foreign=True)
    fold.apply(board_only, foreign=True)
    for event in decided:
        fold.apply(event, foreign=False)
    fold.take_dirty()
    assert fold.saved["TID-1"].level == fact.level
    assert fold.saved["TID-1"].submitted_at == fact.submitted_at
