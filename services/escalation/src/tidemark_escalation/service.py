"""Escalation handlers: load, decide, append + queue projection in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified
from tidekit.events.envelope import Envelope
from tidekit.events.escalation import TicketQueued
from tidekit.events.sla import ClockStarted
from tidekit.runtime import ServiceRuntime

from .domain import route_classified


class EscalationService:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.store = runtime.store

    async def on_event(self, event: DomainEvent, cause: Envelope, conn: asyncpg.Connection) -> None:
        if isinstance(event, TicketClassified):
            current = await conn.fetchval(
                "SELECT queue FROM queue_entries WHERE tid = $1 FOR UPDATE", event.tid
            )
            decided = route_classified(current, event, datetime.now(UTC))
            if decided:
                version = await self.store.stream_version(conn, event.tid)
                await self.store.append(conn, event.tid, version, decided, caused_by=cause)
                for e in decided:
                    if isinstance(e, TicketQueued):
                        await conn.execute(
                            """INSERT INTO queue_entries (tid, queue, urgent, submitted_at,
                                   level, severity, queued_at)
                               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                            e.tid,
                            e.queue,
                            e.urgent,
                            e.submitted_at,
                            event.level,
                            event.severity,
                            e.queued_at,
                        )
        elif isinstance(event, ClockStarted):
            await conn.execute(
                "UPDATE queue_entries SET deadline = $2 WHERE tid = $1", event.tid, event.deadline
            )
