"""Escalation's pure routing decisions: `decide(state, command, ctx) -> events` and
`evolve(state, event) -> state`. No I/O, no clock reads: `ctx.now` is passed in.

Commands are the facts other services publish (ticket.classified, sla.warning,
sla.breached, ticket.supervisor_review_requested) and a staff request (StaffEscalation).
Facts that only inform the state (reclassification, resolution, re-open) go to `evolve`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import reduce
from typing import TypeAlias

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified, TicketReclassified
from tidekit.events.escalation import TicketEscalated, TicketQueued
from tidekit.events.intake import (
    SupervisorReviewRequested,
    TicketClosed,
    TicketReopened,
    TicketResolved,
)
from tidekit.events.sla import SlaBreached, SlaWarning
from tidekit.events.vocabulary import Level, Queue, Severity
from tidekit.sla import Calendar, add, elapsed

from .rules import Rule, Rules, Trigger

SYSTEM = "system"
STAFF_TARGETS: tuple[Queue, ...] = ("tier2", "supervisor", "development")
_TICK = timedelta(microseconds=1)
_NO_TIME = timedelta(0)


@dataclass(frozen=True)
class TicketState:
    """What escalation knows of one ticket (its projection row is this, persisted)."""

    tid: str
    queue: Queue | None = None
    waiting: bool = False  # False once resolved or closed: it leaves its queue's listing
    urgent: bool = False
    submitted_at: datetime | None = None
    level: Level | None = None
    severity: Severity | None = None
    queued_at: datetime | None = None
    rule: str | None = None
    reason: str | None = None
    note: str | None = None
    acted_on: frozenset[str] = field(default_factory=frozenset)  # "breach:<obligation id>"


@dataclass(frozen=True)
class StaffEscalation:
    tid: str
    to: Queue
    reason: str
    staff_id: str


@dataclass(frozen=True)
class Context:
    """Everything `decide` needs besides state and command, all data."""

    rules: Rules
    tier2: Calendar
    may_go_to_development: Mapping[Level, bool]
    now: datetime


class Refused(Exception):
    """A staff request that may not be carried out; `status` is the HTTP answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


Command: TypeAlias = (
    TicketClassified | SlaWarning | SlaBreached | SupervisorReviewRequested | StaffEscalation
)


# --- tier-2 hours ----------------------------------------------------------------------
def in_hours(calendar: Calendar, instant: datetime) -> bool:
    """Is `instant` (aware) inside the calendar's open hours?"""
    return elapsed(calendar, instant, instant + _TICK) > _NO_TIME


def next_opening(calendar: Calendar, instant: datetime) -> datetime:
    """The instant the calendar is next open (`instant` itself when it is open now)."""
    return add(calendar, instant, _TICK) - _TICK


# --- decide ----------------------------------------------------------------------------
def decide(state: TicketState, command: Command, ctx: Context) -> list[DomainEvent]:
    if isinstance(command, StaffEscalation):
        return _staff(state, command, ctx)
    if isinstance(command, TicketClassified):
        if state.queue is not None:  # classified again: it stays where it is
            return []
        facts = evolve(state, command)
        return _route(facts, "on_classified", ctx, from_queue=None)
    if isinstance(command, SlaWarning | SlaBreached):
        kind = "warning" if isinstance(command, SlaWarning) else "breach"
        if f"{kind}:{command.obligation_id}" in state.acted_on or state.queue is None:
            return []  # acted on once already, or not queued yet (nothing to move)
        trigger: Trigger = "on_warning" if kind == "warning" else "on_breach"
        return _route(state, trigger, ctx, from_queue=state.queue)
    if isinstance(command, SupervisorReviewRequested):
        if state.queue is None:
            return []
        return _route(state, "on_review_requested", ctx, from_queue=state.queue, always=True)
    raise TypeError(f"not a command: {type(command).__name__}")


def matches(rule: Rule, state: TicketState, tier2_hours: bool) -> bool:
    w = rule.when
    return (
        (w.severity is None or state.severity in w.severity)
        and (w.level is None or state.level in w.level)
        and (w.queue is None or state.queue in w.queue)
        and (w.urgent is None or state.urgent == w.urgent)
        and (w.tier2_hours is None or tier2_hours == w.tier2_hours)
    )


def first_match(rules: Iterable[Rule], state: TicketState, tier2_hours: bool) -> Rule | None:
    return next((r for r in rules if matches(r, state, tier2_hours)), None)


def _route(
    state: TicketState,
    trigger: Trigger,
    ctx: Context,
    *,
    from_queue: Queue | None,
    always: bool = False,
) -> list[DomainEvent]:
    """The first matching rule's move. `always`: re-queue even into the same queue when the
    ticket no longer waits there (a review request after resolution)."""
    rule = first_match(ctx.rules.for_trigger(trigger), state, in_hours(ctx.tier2, ctx.now))
    if rule is None or (rule.to == from_queue and (state.waiting or not always)):
        return []
    note = None
    if rule.note is not None:
        opens = next_opening(ctx.tier2, ctx.now).isoformat().replace("+00:00", "Z")
        note = rule.note.replace("{tier2_opens}", opens)
    return _move(state, rule.to, rule.reason, rule.rule, SYSTEM, ctx.now, note)


def _move(
    state: TicketState,
    to: Queue,
    reason: str,
    rule: str,
    by: str,
    now: datetime,
    note: str | None = None,
) -> list[DomainEvent]:
    assert state.submitted_at is not None, "a ticket is classified before it is queued"
    events: list[DomainEvent] = []
    if state.queue is not None and state.queue != to:
        events.append(
            TicketEscalated(
                tid=state.tid,
                from_queue=state.queue,
                to_queue=to,
                reason=reason,
                rule=rule,
                escalated_by=by,
                escalated_at=now,
                level=state.level,
                severity=state.severity,
            )
        )
    events.append(
        TicketQueued(
            tid=state.tid,
            queue=to,
            from_queue=state.queue,
            urgent=state.urgent,
            submitted_at=state.submitted_at,
            reason=reason,
            rule=rule,
            queued_at=now,
            note=note,
        )
    )
    return events


def _staff(state: TicketState, cmd: StaffEscalation, ctx: Context) -> list[DomainEvent]:
    if state.queue is None or state.level is None:
        raise Refused(404, "Not found", f"{cmd.tid} is not in any queue (not classified yet?)")
    if cmd.to not in STAFF_TARGETS:
        raise Refused(422, "Invalid target", f"staff escalate to {', '.join(STAFF_TARGETS)}")
    if state.queue == cmd.to:
        raise Refused(409, "Already there", f"{cmd.tid} is already in {cmd.to}")
    rule = f"staff:{cmd.to}"
    if cmd.to == "development":
        if not ctx.may_go_to_development.get(state.level, False):
            raise Refused(
                409,
                "Level may not go to development",
                f"{cmd.tid} has level {state.level}, which may not be handed to the "
                "development department (SPEC 1.1: only levels entitled to development, "
                f"not non_commercial or non_product)",
            )
        dev = ctx.rules.development
        if state.level in dev.direct_levels:
            rule = "staff:development-direct"
        elif state.queue not in dev.via_queues:
            raise Refused(
                409,
                "Not directly to development",
                f"{cmd.tid} has level {state.level}, which reaches development only from "
                f"{' or '.join(dev.via_queues)}; it is in {state.queue}",
            )
    return _move(state, cmd.to, cmd.reason, rule, cmd.staff_id, ctx.now)


# --- evolve ----------------------------------------------------------------------------
def evolve(state: TicketState, event: DomainEvent) -> TicketState:
    if isinstance(event, TicketClassified):
        return replace(
            state,
            level=event.level,
            severity=event.severity,
            urgent=event.urgent,
            submitted_at=state.submitted_at or event.submitted_at,
        )
    if isinstance(event, TicketReclassified):
        return replace(state, level=event.level, severity=event.severity)
    if isinstance(event, TicketQueued):
        return replace(
            state,
            queue=event.queue,
            waiting=True,
            queued_at=event.queued_at,
            rule=event.rule,
            reason=event.reason,
            note=event.note,
        )
    if isinstance(event, SlaWarning):
        return replace(state, acted_on=state.acted_on | {f"warning:{event.obligation_id}"})
    if isinstance(event, SlaBreached):
        return replace(state, acted_on=state.acted_on | {f"breach:{event.obligation_id}"})
    if isinstance(event, TicketResolved | TicketClosed):
        return replace(state, waiting=False)
    if isinstance(event, TicketReopened):
        return replace(state, waiting=state.queue is not None)
    return state  # TicketEscalated: the TicketQueued that follows it moves the ticket


def handle(
    state: TicketState, fact: DomainEvent | StaffEscalation, ctx: Context
) -> tuple[TicketState, list[DomainEvent]]:
    """decide on `fact` (when it is a command), then fold the fact and the decisions."""
    events = decide(state, fact, ctx) if isinstance(fact, Command) else []
    facts: list[DomainEvent] = [fact] if isinstance(fact, DomainEvent) else []
    return reduce(evolve, [*facts, *events], state), events
