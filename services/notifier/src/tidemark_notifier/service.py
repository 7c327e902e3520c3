"""Notifier handlers: fold ticket facts, owe messages exactly once (unique row per cause)."""

from __future__ import annotations

import json
import uuid

import asyncpg

from tidekit.events import classifier, intake, sla
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope

from .domain import Message, TicketFacts, acknowledgement_due


async def on_ticket_event(
    event: DomainEvent, cause: Envelope, conn: asyncpg.Connection, message_id_domain: str
) -> None:
    tid = event.stream_id()
    await conn.execute("INSERT INTO tickets (tid) VALUES ($1) ON CONFLICT DO NOTHING", tid)
    if isinstance(event, intake.TicketSubmitted):
        await conn.execute(
            """UPDATE tickets SET requester_email = $2, requester_name = $3, channel = $4,
                   subject = $5, updated_at = now() WHERE tid = $1""",
            tid,
            event.requester.email,
            event.requester.name,
            event.channel,
            event.subject,
        )
    elif isinstance(event, classifier.TicketClassified):
        await conn.execute(
            "UPDATE tickets SET level = $2, entitlement = $3, updated_at = now() WHERE tid = $1",
            tid,
            event.level,
            event.entitlement,
        )
    elif isinstance(event, sla.ClockStarted) and event.kind == "first_response":
        await conn.execute(
            """UPDATE tickets SET deadline = $2, clock_event_id = $3, updated_at = now()
               WHERE tid = $1 AND deadline IS NULL""",
            tid,
            event.deadline,
            cause.id,
        )
    row = await conn.fetchrow("SELECT * FROM tickets WHERE tid = $1 FOR UPDATE", tid)
    facts = TicketFacts(
        tid=tid,
        requester_email=row["requester_email"],
        requester_name=row["requester_name"],
        subject=row["subject"],
        level=row["level"],
        entitlement=row["entitlement"],
        deadline=row["deadline"],
    )
    message = acknowledgement_due(facts)
    if message is not None:
        await owe(conn, tid, message, cause, message_id_domain)


async def owe(
    conn: asyncpg.Connection, tid: str, message: Message, cause: Envelope, domain: str
) -> bool:
    """Record a message to send after commit; False when it was already owed or sent."""
    notification_id = uuid.uuid4()
    inserted = await conn.fetchval(
        """INSERT INTO notifications (notification_id, tid, kind, cause_key, cause_event_id,
               correlation_id, trace, channel, recipient, subject, body, message_id)
           VALUES ($1, $2, $3, $4, $5, $10, $11::jsonb, 'email', $6, $7, $8, $9)
           ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING RETURNING true""",
        notification_id,
        tid,
        message.kind,
        message.cause_key,
        cause.id,
        message.recipient,
        message.subject,
        message.body,
        f"<{notification_id}@{domain}>",
        cause.correlation_id,
        json.dumps(dict(cause.trace)),
    )
    return bool(inserted)
