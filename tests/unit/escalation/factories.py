"""Inputs for the pure routing tests: events as the other services publish them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tidekit.events.classifier import TicketClassified
from tidekit.events.intake import SupervisorReviewRequested
from tidekit.events.sla import SlaBreached, SlaWarning
from tidekit.sla import load_policy
from tidemark_escalation.domain import Context, TicketState, evolve
from tidemark_escalation.rules import load_rules

POLICY = load_policy()
RULES = load_rules()
MAY_GO = {lvl: spec.may_go_to_development for lvl, spec in POLICY.model.levels.items()}

IN_TIER2 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 UTC
EVENING = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 17:00 UTC: tier 2 closed
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ctx(now: datetime) -> Context:
    return Context(RULES, POLICY.calendars[RULES.tier2_calendar], MAY_GO, now)


def classified(tid: str = "TID-1", **over: Any) -> TicketClassified:
    data: dict[str, Any] = {
        "tid": tid,
        "level": "commercial",
        "severity": "medium",
        "category": "product_error",
        "in_scope": True,
        "entitlement": "active",
        "urgent": False,
        "policy_version": "2026.1",
        "reasons": ("test",),
        "submitted_at": SUBMITTED,
        "classified_at": SUBMITTED,
    }
    return TicketClassified(**{**data, **over})


def breached(tid: str = "TID-1", n: int = 1) -> SlaBreached:
    return SlaBreached(
        tid=tid,
        obligation_id=f"{tid}/{n}",
        kind="first_response",
        level="commercial",
        severity="medium",
        deadline=SUBMITTED,
        emitted_at=SUBMITTED,
        lateness_seconds=0,
        policy_version="2026.1",
    )


def warned(tid: str = "TID-1", n: int = 1) -> SlaWarning:
    return SlaWarning(
        tid=tid,
        obligation_id=f"{tid}/{n}",
        kind="first_response",
        warning_at=SUBMITTED,
        deadline=SUBMITTED,
        emitted_at=SUBMITTED,
        lateness_seconds=0,
        policy_version="2026.1",
    )


def review(tid: str = "TID-1") -> SupervisorReviewRequested:
    return SupervisorReviewRequested(tid=tid, reason="unhappy", requested_at=SUBMITTED)


def in_queue(queue: str, tid: str = "TID-1", **over: Any) -> TicketState:
    """A classified ticket waiting in `queue`."""
    state = evolve(TicketState(tid=tid), classified(tid, **over))
    return replace(state, queue=queue, waiting=True, queued_at=SUBMITTED)  # type: ignore[arg-type]
