"""The ticket read model (table `tickets`) and the history of other services' events."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import orjson

from tidekit.events import classifier, escalation, intake
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.store.table_writes import TableWrite

from . import obligations
from .attachments import CheckedAttachment


def attachment_rows(files: Sequence[CheckedAttachment]) -> TableWrite | None:
    """The attachments' rows, as a write that goes with the events (None: no file)."""
    if not files:
        return None
    return TableWrite(
        """INSERT INTO attachments (ref, media_type, size, content)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bytea[])
           ON CONFLICT (ref) DO NOTHING""",
        (
            [f.ref for f in files],
            [f.media_type for f in files],
            [len(f.content) for f in files],
            [f.content for f in files],
        ),
    )


def ticket_row(e: intake.TicketSubmitted, salt: str, token_hash: str) -> TableWrite:
    """The new ticket's read-model row, as a write that goes with its first event."""
    first_message = {
        "author": "customer",
        "email": e.requester.email,
        "body": e.body,
        "at": e.submitted_at.isoformat().replace("+00:00", "Z"),
        "attachments": [a.model_dump() for a in e.attachments],
        "visibility": "public",
    }
    return TableWrite(
        """INSERT INTO tickets (tid, status, channel, requester_email, requester_name,
               license_key, subject, product, site_url, messages, token_salt, token_hash,
               created_at)
           VALUES ($1, 'new', $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12)""",
        (
            e.tid,
            e.channel,
            e.requester.email,
            e.requester.name,
            e.license_key,
            e.subject,
            _jsonb(e.product.model_dump()),
            e.site_url,
            _jsonb([first_message]),
            salt,
            token_hash,
            e.submitted_at,
        ),
    )


def _jsonb(value: Any) -> str:
    # orjson, as fold.py: a fraction of json.dumps' time, and Postgres parses either into
    # the same jsonb (which keeps neither key order nor escapes as written)
    return orjson.dumps(value).decode()


def _z(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


_STATUS_AFTER: dict[type[DomainEvent], str] = {
    intake.TicketResolved: "resolved",
    intake.TicketClosed: "closed",
    intake.TicketReopened: "open",
}


async def apply_own(conn: asyncpg.Connection, e: DomainEvent) -> None:
    """Fold one of intake's own events (after the first) into the read model."""
    if isinstance(e, intake.StatusChanged):
        await _set_status(conn, e.tid, e.to_status)
    elif type(e) in _STATUS_AFTER:
        await _set_status(conn, e.stream_id(), _STATUS_AFTER[type(e)])
    elif isinstance(e, intake.MessageAdded):
        await _add_message(
            conn,
            e.tid,
            {
                "message_id": e.message_id,
                "author": "customer",
                "email": e.author_email,
                "visibility": "public",
                "body": e.body,
                "at": _z(e.added_at),
                "attachments": [a.model_dump() for a in e.attachments],
            },
        )
    elif isinstance(e, intake.StaffReplied):
        await _add_message(
            conn,
            e.tid,
            {
                "message_id": e.message_id,
                "author": "staff",
                "staff_id": e.staff_id,
                "visibility": e.visibility,
                "body": e.body,
                "at": _z(e.replied_at),
                "attachments": [],
            },
        )
    elif isinstance(e, intake.TicketRated):
        await conn.execute(
            "UPDATE tickets SET rating = $2, rating_comment = $3, updated_at = now() "
            "WHERE tid = $1",
            e.tid,
            e.rating,
            e.comment,
        )


async def _set_status(conn: asyncpg.Connection, tid: str, status: str) -> None:
    await conn.execute(
        "UPDATE tickets SET status = $2, updated_at = now() WHERE tid = $1", tid, status
    )


async def _add_message(conn: asyncpg.Connection, tid: str, message: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE tickets SET messages = messages || $2::jsonb, updated_at = now() WHERE tid = $1",
        tid,
        json.dumps([message]),
    )


def foreign_row(env: Envelope) -> TableWrite:
    """Another service's event in the ticket's history (written with the unit of work's
    flush: nothing reads it back in the handler that records it)."""
    return TableWrite(
        """INSERT INTO foreign_events (event_id, tid, event_type, source, data, occurred_at,
               schema_version)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) ON CONFLICT DO NOTHING""",
        (
            env.id,
            env.subject,
            env.type,
            env.source,
            json.dumps(env.data),
            env.time,
            env.schema_version,
        ),
    )


async def _fold_obligation(conn: asyncpg.Connection, e: obligations.ObligationEvent) -> None:
    """One of the sla-timer's events into the obligation's view (obligations.evolve)."""
    stored = await conn.fetchval(
        "SELECT obligations -> $2::text FROM tickets WHERE tid = $1 FOR UPDATE",
        e.tid,
        e.obligation_id,
    )
    before = None if stored is None else obligations.from_json(e.obligation_id, json.loads(stored))
    after = obligations.evolve(before, e)
    await conn.execute(
        """UPDATE tickets SET obligations = jsonb_set(obligations, ARRAY[$2::text], $3::jsonb),
               updated_at = now()
           WHERE tid = $1""",
        e.tid,
        e.obligation_id,
        json.dumps(obligations.to_json(after)),
    )


async def apply_foreign(
    conn: asyncpg.Connection, e: DomainEvent, stage: Callable[[TableWrite], None] | None = None
) -> None:
    """Fold what other services decided about a ticket into its read model. With `stage`
    (a unit of work's), a write that nothing in the handler reads back goes with the
    flush's statement instead of a round trip of its own: a ticket's queue."""
    if isinstance(e, classifier.TicketClassified | classifier.TicketReclassified):
        extra = (
            {
                "category": e.category,
                "in_scope": e.in_scope,
                "entitlement": e.entitlement,
                "urgent": e.urgent,
            }
            if isinstance(e, classifier.TicketClassified)
            else {}
        )
        await conn.execute(
            """UPDATE tickets SET level = $2, severity = $3,
                   category = coalesce($4, category), in_scope = coalesce($5, in_scope),
                   entitlement = coalesce($6, entitlement), urgent = coalesce($7, urgent),
                   updated_at = now() WHERE tid = $1""",
            e.tid,
            e.level,
            e.severity,
            extra.get("category"),
            extra.get("in_scope"),
            extra.get("entitlement"),
            extra.get("urgent"),
        )
    elif isinstance(e, obligations.OBLIGATION_EVENTS):
        await _fold_obligation(conn, e)
    elif isinstance(e, escalation.TicketQueued):
        queued = TableWrite(
            "UPDATE tickets SET queue = $2, updated_at = now() WHERE tid = $1", (e.tid, e.queue)
        )
        if stage is not None:
            stage(queued)
        else:
            await queued.execute(conn)


async def record_license(conn: asyncpg.Connection, e: classifier.LicenseRecorded) -> None:
    """Replace the license's registered addresses (an address removed stops counting)."""
    emails = sorted({a.lower() for a in (*e.emails, *e.group_emails)})
    await conn.execute("DELETE FROM license_addresses WHERE license_key = $1", e.license_key)
    await conn.executemany(
        "INSERT INTO license_addresses (license_key, email) VALUES ($1, $2)",
        [(e.license_key, email) for email in emails],
    )
