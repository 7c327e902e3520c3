"""SLA timer handlers: load, decide, append + obligation rows in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from tidekit import sla
from tidekit.events.classifier import TicketClassified
from tidekit.events.envelope import Envelope
from tidekit.runtime import ServiceRuntime

from .domain import clocks_after_classification


class SlaTimerService:
    def __init__(self, runtime: ServiceRuntime, policy: sla.Policy) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.policy = policy

    async def on_classified(
        self, event: TicketClassified, cause: Envelope, conn: asyncpg.Connection
    ) -> None:
        if await conn.fetchval("SELECT 1 FROM obligations WHERE tid = $1 LIMIT 1", event.tid):
            return  # clocks already run for this ticket (a later classification)
        started = clocks_after_classification(self.policy, event, datetime.now(UTC))
        if not started:
            return  # expired entitlement: no clock
        version = await self.store.stream_version(conn, event.tid)
        await self.store.append(conn, event.tid, version, started, caused_by=cause)
        await conn.executemany(
            """INSERT INTO obligations (obligation_id, tid, kind, level, severity, started_at,
                   deadline, warning_at, state, policy_version)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9)""",
            [
                (
                    c.obligation_id,
                    c.tid,
                    c.kind,
                    c.level,
                    c.severity,
                    c.started_at,
                    c.deadline,
                    c.warning_at,
                    c.policy_version,
                )
                for c in started
            ],
        )
