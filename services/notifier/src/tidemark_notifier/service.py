"""Notifier handlers: a consumed event (load the ticket's facts, decide, store facts and
owed rows) and a bounce reported by the mail gateway.

An event's handler runs in the consumer's unit of work, next to its inbox row: the rows it
writes are the promise to send, and the unique (cause_key, recipient) key makes that
promise once only. The notifier's state lives in tables, so its events are recorded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.events.notifier import NotificationBounced
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.table_writes import TableWrite
from tidekit.telemetry import span_from_headers

from .bounces import Bounce
from .domain import Owed, Routing, TicketFacts, decide, with_thread
from .settings import NotifierSettings
from .templates import Renderer

TICKET_EVENTS = (
    "ticket.submitted",
    "ticket.classified",
    "ticket.reclassified",
    "vip_coupon.refused",
    "sla.clock_started",
    "ticket.message_added",
    "ticket.staff_replied",
    "ticket.resolved",
    "ticket.closed",
    "ticket.credentials_destroyed",
    "sla.warning",
    "sla.breached",
    "ticket.queued",
    "ticket.escalated",
)


def routing_from(settings: NotifierSettings) -> Routing:
    return Routing(
        queue_emails=dict(settings.queue_emails),
        alert_webhooks=frozenset(settings.alert_webhooks),
        channel_webhooks={c: w.also_email for c, w in settings.channel_webhooks.items()},
        customer_time_zones=dict(settings.customer_time_zones),
        default_queue=settings.default_queue,
        rating_url=settings.rating_url,
        renew_url=settings.renew_url,
        staff_ticket_url=settings.staff_ticket_url,
    )


class NotifierService:
    def __init__(self, settings: NotifierSettings, renderer: Renderer) -> None:
        self.routing = routing_from(settings)
        self.renderer = renderer
        self.domain = settings.message_id_domain

    async def on_event(self, event: DomainEvent, uow: UnitOfWork) -> int:
        """Fold the event into the ticket and owe what it calls for; returns rows owed."""
        conn, cause = uow.conn, uow.cause
        assert isinstance(cause, Envelope), "a consumed event's cause is its envelope"
        tid = event.stream_id()
        batch = uow.prefetched  # the consumer batch's tickets, read and locked (tickets_of)
        if batch is not None and tid in batch:
            before: TicketFacts = batch[tid]
        else:  # one round trip: create the ticket's row if new, and lock it either way
            before = _facts(await conn.fetchrow(_TICKET, [tid]))
        facts, owed = decide(before, event, cause.id, self.routing)
        inserted = 0
        for message in owed:
            message_id = await self._owe(conn, message, facts, cause)
            if message_id is None:
                continue
            inserted += 1
            if message.channel == "email" and message.audience == "customer":
                facts = with_thread(facts, message_id)
        if facts != before:  # with the unit of work's flush: nothing here reads the row again
            uow.stage(_saved(facts))
        if batch is not None:
            batch[tid] = facts  # what the row holds once this record's unit of work is flushed
        return inserted

    async def _owe(
        self, conn: asyncpg.Connection, message: Owed, facts: TicketFacts, cause: Envelope
    ) -> str | None:
        """Store one message to send after commit; None when it was already owed."""
        notification_id = uuid.uuid4()
        message_id = f"<{notification_id}@{self.domain}>"
        rendered = self.renderer.render(message.kind, message.context)
        headers: dict[str, str] = {}
        if message.threaded and facts.thread:
            headers = {"In-Reply-To": facts.thread[-1], "References": " ".join(facts.thread)}
        payload: dict[str, Any] | None = None
        if message.channel == "webhook":
            payload = {
                "type": message.kind,
                "tid": facts.tid,
                "notification_id": str(notification_id),
                "subject": rendered.subject,
                "text": rendered.text,
                "data": message.context,
            }
        inserted = await conn.fetchval(
            """INSERT INTO notifications (notification_id, tid, kind, cause_key, cause_event_id,
                   correlation_id, trace, channel, recipient, subject, body, message_id,
                   audience, html, headers, payload)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14,
                       $15::jsonb, $16::jsonb)
               ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING RETURNING true""",
            notification_id,
            facts.tid,
            message.kind,
            message.cause_key,
            cause.id,
            cause.correlation_id,
            json.dumps(dict(cause.trace)),
            message.channel,
            message.recipient,
            rendered.subject,
            rendered.text,
            message_id,
            message.audience,
            rendered.html,
            json.dumps(headers),
            json.dumps(payload) if payload is not None else None,
        )
        return message_id if inserted else None


async def record_bounce(bounce: Bounce, uow: UnitOfWork) -> dict[str, Any] | None:
    """A DSN for one of our messages: a permanent failure marks it bounced, once, with a
    notification.bounced. None when no notification has its Message-ID."""
    row = await uow.conn.fetchrow(
        "SELECT * FROM notifications WHERE message_id = $1 FOR UPDATE", bounce.message_id
    )
    if row is None:
        return None
    out: dict[str, Any] = {
        "notification_id": str(row["notification_id"]),
        "tid": row["tid"],
        "message_id": row["message_id"],
        "state": row["state"],
        "action": bounce.action,
        "reason": bounce.reason(),
    }
    if not bounce.permanent or row["state"] == "bounced":
        return out  # delayed: still trying; bounced already: nothing twice
    now = uow.now()
    event = NotificationBounced(
        tid=row["tid"],
        notification_id=str(row["notification_id"]),
        kind=row["kind"],
        recipient=row["recipient"],
        message_id=row["message_id"],
        reason=bounce.reason(),
        bounced_at=now,
    )
    # The bounce continues the trace of the message's cause; the notification's row lock
    # orders it (recorded, not appended).
    with span_from_headers("record bounce", json.loads(row["trace"]), row["tid"]):
        uow.record([event])
    await uow.conn.execute(
        """UPDATE notifications SET state = 'bounced', bounced_at = $2, bounce_reason = $3
           WHERE notification_id = $1""",
        row["notification_id"],
        now,
        bounce.reason(),
    )
    return {**out, "state": "bounced"}


# The tickets' rows, created where new and locked either way (in TID order, so two batches
# never wait for each other's rows in opposite orders).
_TICKET = """INSERT INTO tickets (tid) SELECT t FROM unnest($1::text[]) AS t ORDER BY t
             ON CONFLICT (tid) DO UPDATE SET tid = EXCLUDED.tid RETURNING *"""


async def tickets_of(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> dict[str, Any]:
    """A consumer batch's tickets (BatchHandler.prefetch): what each handler reads first, in
    one statement for the batch instead of one per event."""
    tids = sorted({event.stream_id() for event in events})
    return {row["tid"]: _facts(row) for row in await conn.fetch(_TICKET, tids)}


def _facts(row: asyncpg.Record) -> TicketFacts:
    refusal = row["coupon_reason"]
    return TicketFacts(
        tid=row["tid"],
        requester_email=row["requester_email"],
        requester_name=row["requester_name"],
        channel=row["channel"],
        subject=row["subject"],
        license_key=row["license_key"],
        level=row["level"],
        severity=row["severity"],
        entitlement=row["entitlement"],
        deadline=row["deadline"],
        queue=row["queue"],
        coupon_refusal=(refusal, row["coupon_explanation"] or "") if refusal else None,
        acknowledged=row["acknowledged"],
        coupon_told=row["coupon_told"],
        thread=tuple(row["thread"]),
    )


def _saved(f: TicketFacts) -> TableWrite:
    return TableWrite(
        """UPDATE tickets SET requester_email = $2, requester_name = $3, channel = $4,
               subject = $5, license_key = $6, level = $7, severity = $8, entitlement = $9,
               deadline = $10, queue = $11, coupon_reason = $12, coupon_explanation = $13,
               acknowledged = $14, coupon_told = $15, thread = $16, updated_at = now()
           WHERE tid = $1""",
        (
            f.tid,
            f.requester_email,
            f.requester_name,
            f.channel,
            f.subject,
            f.license_key,
            f.level,
            f.severity,
            f.entitlement,
            f.deadline,
            f.queue,
            f.coupon_refusal[0] if f.coupon_refusal else None,
            f.coupon_refusal[1] if f.coupon_refusal else None,
            f.acknowledged,
            f.coupon_told,
            list(f.thread),
        ),
    )
