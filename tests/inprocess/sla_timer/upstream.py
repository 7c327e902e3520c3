"""The other services' events the sla-timer consumes, with the defaults its tests use."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified, TicketReclassified
from tidekit.events.escalation import TicketEscalated
from tidekit.events.intake import (
    MessageAdded,
    StaffReplied,
    StatusChanged,
    TicketReopened,
    TicketResolved,
)


def new_tid() -> str:
    return f"TID-{uuid.uuid4().int % 10**12}"


def classified(
    tid: str,
    at: datetime,
    level: str = "commercial",
    severity: str | None = "high",
    entitlement: str = "active",
) -> TicketClassified:
    return TicketClassified(
        tid=tid,
        level=level,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        category="product_error",
        in_scope=True,
        entitlement=entitlement,  # type: ignore[arg-type]
        policy_version="2026.1",
        reasons=("test",),
        submitted_at=at,
        classified_at=at,
    )


def staff_reply(tid: str, at: datetime, visibility: str = "public") -> StaffReplied:
    return StaffReplied(
        tid=tid,
        message_id=uuid.uuid4().hex,
        staff_id="agent-1",
        body="Hello",
        visibility=visibility,  # type: ignore[arg-type]
        replied_at=at,
    )


def customer_message(tid: str, at: datetime) -> MessageAdded:
    return MessageAdded(
        tid=tid,
        message_id=uuid.uuid4().hex,
        author_email="c@example.com",
        body="More",
        via="web",
        added_at=at,
    )


def status(tid: str, at: datetime, to: str, frm: str = "open") -> StatusChanged:
    return StatusChanged(
        tid=tid,
        from_status=frm,  # type: ignore[arg-type]
        to_status=to,  # type: ignore[arg-type]
        changed_by="agent-1",
        changed_at=at,
    )


def waited_on_customer(tid: str, t: datetime) -> list[DomainEvent]:
    """A ticket classified at t, then 10 min later waiting on the customer, who answers at
    40 min (the ticket opens again), and staff reply at 50 min."""
    m = timedelta(minutes=1)
    return [
        classified(tid, t),
        status(tid, t + 10 * m, "waiting_on_customer"),
        customer_message(tid, t + 40 * m),
        status(tid, t + 40 * m, "open", frm="waiting_on_customer"),
        staff_reply(tid, t + 50 * m),
    ]


def resolved(tid: str, at: datetime) -> TicketResolved:
    return TicketResolved(tid=tid, resolved_by="agent-1", resolved_at=at)


def reopened(tid: str, at: datetime) -> TicketReopened:
    return TicketReopened(tid=tid, reopened_by="c@example.com", reopened_at=at)


def reclassified(
    tid: str, at: datetime, level: str, severity: str | None, before: tuple[str, str]
) -> TicketReclassified:
    return TicketReclassified(
        tid=tid,
        level=level,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        previous_level=before[0],  # type: ignore[arg-type]
        previous_severity=before[1],  # type: ignore[arg-type]
        reason="staff",
        reclassified_by="agent-1",
        policy_version="2026.1",
        reclassified_at=at,
    )


def escalated(tid: str, at: datetime, to: str = "development") -> TicketEscalated:
    return TicketEscalated(
        tid=tid,
        from_queue="tier2",
        to_queue=to,  # type: ignore[arg-type]
        reason="bug",
        rule="staff",
        escalated_by="agent-1",
        escalated_at=at,
    )
