"""Events owned by the escalation service (topic tidemark.escalation.v1)."""

from __future__ import annotations

from pydantic import Field

from .base import DomainEvent, event
from .vocabulary import Level, Queue, Severity, UtcDatetime


@event
class TicketEscalated(DomainEvent):
    """The ticket moved from one queue to another, by a rule or by staff.

    `to_queue: development` is the hand-off to the development department: the sla-timer
    starts the policy's `development` obligation (14 days, 24x7) from `escalated_at`.
    `level` and `severity` are the ticket's service level and severity at the move."""

    event_type = "ticket.escalated"
    tid: str
    from_queue: Queue | None
    to_queue: Queue
    reason: str
    rule: str
    escalated_by: str
    escalated_at: UtcDatetime
    level: Level | None = Field(default=None, description="the ticket's level at the move")
    severity: Severity | None = None


@event
class TicketQueued(DomainEvent):
    """The ticket now waits in `queue`; `submitted_at` and `urgent` give its serving order."""

    event_type = "ticket.queued"
    tid: str
    queue: Queue
    from_queue: Queue | None = None
    urgent: bool = False
    submitted_at: UtcDatetime
    reason: str
    rule: str
    queued_at: UtcDatetime
    note: str | None = Field(
        default=None, description="for staff, e.g. why a critical ticket waits in tier 1"
    )
