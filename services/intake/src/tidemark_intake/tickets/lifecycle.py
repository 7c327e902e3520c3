"""The ticket lifecycle (SPEC 2) as a pure state machine: decide(state, command) -> events.

new ─classified─▶ open ◀──▶ waiting_on_customer | on_hold ──▶ resolved ──▶ closed
resolved and closed go back to open by a re-open; staff may close any open ticket with a
reason. One fact, one event: resolving emits `ticket.resolved`, closing `ticket.closed`,
re-opening `ticket.reopened`, every other move `ticket.status_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from tidekit.events.base import DomainEvent
from tidekit.events.intake import (
    AttachmentRef,
    MessageAdded,
    StaffReplied,
    StatusChanged,
    SupervisorReviewRequested,
    TicketClosed,
    TicketRated,
    TicketReopened,
    TicketResolved,
    TicketSubmitted,
)
from tidekit.events.vocabulary import Channel, CloseReason, Status
from tidekit.sla import Calendar

from . import resolution

ACTIVE: frozenset[Status] = frozenset({"new", "open", "waiting_on_customer", "on_hold"})
FINISHED: frozenset[Status] = frozenset({"resolved", "closed"})
STAFF_MOVES: dict[Status, frozenset[Status]] = {
    "new": frozenset({"open", "closed"}),
    "open": frozenset({"waiting_on_customer", "on_hold", "resolved", "closed"}),
    "waiting_on_customer": frozenset({"open", "on_hold", "resolved", "closed"}),
    "on_hold": frozenset({"open", "waiting_on_customer", "resolved", "closed"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
}


class IllegalTransition(Exception):
    """The command does not fit the ticket's status; says which status and what is allowed."""

    def __init__(self, action: str, status: Status, allowed: frozenset[str]) -> None:
        allowed_text = ", ".join(sorted(allowed)) or "nothing (re-open it first)"
        super().__init__(f"cannot {action} a ticket that is {status}; allowed: {allowed_text}")
        self.status = status
        self.allowed = allowed


@dataclass(frozen=True)
class TicketState:
    """What the lifecycle needs to know of a ticket to decide a command, folded from
    the ticket's own events."""

    tid: str
    status: Status
    version: int
    rated: bool = False
    # the history a resolution time is measured from (ticket.resolved)
    submitted_at: datetime | None = None
    on_hold_since: datetime | None = None  # while on_hold: since when
    on_hold_before: timedelta = timedelta(0)  # holds already over


@dataclass(frozen=True)
class CustomerMessage:
    """The customer writes to the ticket (web, chat or e-mail); refused once the ticket is
    finished, and an answer while it waits on the customer opens it again."""

    author_email: str
    body: str
    via: Channel
    message_id: str
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class StaffMessage:
    """Staff write to the ticket: a public reply the customer gets, or an internal
    note; refused only on a closed ticket."""

    staff_id: str
    body: str
    visibility: Literal["public", "internal"]
    message_id: str


@dataclass(frozen=True)
class ChangeStatus:
    """Staff move the ticket to another status (STAFF_MOVES); a move to closed takes
    `close_reason`, and `reason` is then its note."""

    to: Status
    by: str
    reason: str | None = None
    close_reason: CloseReason | None = None


@dataclass(frozen=True)
class Reopen:
    """A resolved or closed ticket opened again, by the customer or by staff
    (`by`)."""

    by: str


@dataclass(frozen=True)
class Rate:
    """The customer's one rating of a finished ticket, with a comment (possibly
    empty)."""

    rating: int
    comment: str


@dataclass(frozen=True)
class AskSupervisor:
    """The customer asks for a supervisor's review of a finished ticket, saying
    why."""

    reason: str


Command = CustomerMessage | StaffMessage | ChangeStatus | Reopen | Rate | AskSupervisor


def decide(
    t: TicketState, command: Command, now: datetime, calendar: Calendar | None = None
) -> list[DomainEvent]:
    """The events `command` makes. Resolving needs the `calendar` its business time is
    counted on (resolution.calendar_for)."""
    match command:
        case CustomerMessage():
            if t.status in FINISHED:
                raise IllegalTransition("add a message to", t.status, frozenset({"reopen"}))
            added: list[DomainEvent] = [
                MessageAdded(
                    tid=t.tid,
                    message_id=command.message_id,
                    author_email=command.author_email,
                    body=command.body,
                    via=command.via,
                    attachments=command.attachments,
                    added_at=now,
                )
            ]
            if t.status == "waiting_on_customer":  # the customer answered: back to staff
                added.append(
                    StatusChanged(
                        tid=t.tid,
                        from_status=t.status,
                        to_status="open",
                        reason="customer replied",
                        changed_by="system",
                        changed_at=now,
                    )
                )
            return added
        case StaffMessage():
            if t.status == "closed":
                raise IllegalTransition("reply to", t.status, frozenset({"reopen"}))
            return [
                StaffReplied(
                    tid=t.tid,
                    message_id=command.message_id,
                    staff_id=command.staff_id,
                    body=command.body,
                    visibility=command.visibility,
                    replied_at=now,
                )
            ]
        case ChangeStatus():
            return _change_status(t, command, now, calendar)
        case Reopen():
            if t.status not in FINISHED:
                raise IllegalTransition("re-open", t.status, STAFF_MOVES[t.status])
            return [TicketReopened(tid=t.tid, reopened_by=command.by, reopened_at=now)]
        case Rate():
            if t.status not in FINISHED or t.rated:
                raise IllegalTransition(
                    "rate", t.status, frozenset() if t.rated else frozenset({"resolve first"})
                )
            return [
                TicketRated(tid=t.tid, rating=command.rating, comment=command.comment, rated_at=now)
            ]
        case AskSupervisor():
            if t.status not in FINISHED:
                raise IllegalTransition(
                    "ask for a supervisor's review of", t.status, frozenset({"resolve first"})
                )
            return [SupervisorReviewRequested(tid=t.tid, reason=command.reason, requested_at=now)]
    raise TypeError(f"unknown command {command!r}")


def _resolved(t: TicketState, by: str, now: datetime, calendar: Calendar | None) -> TicketResolved:
    if calendar is None or t.submitted_at is None:
        raise ValueError("resolving needs the ticket's history and a calendar to measure it")
    took = resolution.measure(t.submitted_at, now, t.on_hold_before, t.on_hold_since, calendar)
    return TicketResolved(
        tid=t.tid,
        resolved_by=by,
        resolved_at=now,
        resolution_seconds=took.seconds,
        resolution_business_seconds=took.business_seconds,
        on_hold_seconds=took.on_hold_seconds,
    )


def _change_status(
    t: TicketState, c: ChangeStatus, now: datetime, calendar: Calendar | None
) -> list[DomainEvent]:
    allowed = STAFF_MOVES[t.status]
    if c.to not in allowed:
        raise IllegalTransition(f"move to {c.to}", t.status, allowed)
    if c.to == "resolved":
        return [_resolved(t, c.by, now, calendar)]
    if c.to == "closed":
        return [
            TicketClosed(
                tid=t.tid,
                reason=c.close_reason or "other",
                note=c.reason,
                closed_by=c.by,
                closed_at=now,
            )
        ]
    return [
        StatusChanged(
            tid=t.tid,
            from_status=t.status,
            to_status=c.to,
            reason=c.reason,
            changed_by=c.by,
            changed_at=now,
        )
    ]


def _hold(t: TicketState, to: Status, at: datetime) -> TicketState:
    """Open or close the running hold as the status moves to `to` at `at`."""
    if to == "on_hold":
        return t if t.on_hold_since is not None else replace(t, on_hold_since=at)
    if t.on_hold_since is None:
        return t
    held = max(at - t.on_hold_since, timedelta(0))
    return replace(t, on_hold_since=None, on_hold_before=t.on_hold_before + held)


def evolve(t: TicketState, event: DomainEvent) -> TicketState:
    version = t.version + 1
    match event:
        case TicketSubmitted():
            return TicketState(
                tid=event.tid, status="new", version=version, submitted_at=event.submitted_at
            )
        case StatusChanged():
            held = _hold(t, event.to_status, event.changed_at)
            return replace(held, status=event.to_status, version=version)
        case TicketResolved():
            return replace(
                _hold(t, "resolved", event.resolved_at), status="resolved", version=version
            )
        case TicketClosed():
            return replace(_hold(t, "closed", event.closed_at), status="closed", version=version)
        case TicketReopened():
            return replace(t, status="open", version=version, rated=False)
        case TicketRated():
            return replace(t, rated=True, version=version)
    return replace(t, version=version)
