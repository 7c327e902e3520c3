"""Escalation's pure routing decisions."""

from __future__ import annotations

from datetime import datetime

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified
from tidekit.events.escalation import TicketQueued
from tidekit.events.vocabulary import Queue


def route_classified(
    current_queue: Queue | None, classified: TicketClassified, now: datetime
) -> list[DomainEvent]:
    """A newly classified ticket waits in tier 1; a ticket already queued stays put."""
    if current_queue is not None:
        return []
    return [
        TicketQueued(
            tid=classified.tid,
            queue="tier1",
            urgent=classified.urgent,
            submitted_at=classified.submitted_at,
            reason="new classified ticket",
            rule="default:tier1",
            queued_at=now,
        )
    ]
