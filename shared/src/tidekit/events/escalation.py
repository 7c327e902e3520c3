"""Events owned by the escalation service (topic tidemark.escalation.v1)."""

from __future__ import annotations

from .base import DomainEvent, event
from .vocabulary import Queue, UtcDatetime


@event
class TicketEscalated(DomainEvent):
    event_type = "ticket.escalated"
    tid: str
    from_queue: Queue | None
    to_queue: Queue
    reason: str
    rule: str
    escalated_by: str
    escalated_at: UtcDatetime


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
