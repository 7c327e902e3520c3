"""Sends owed messages after commit, with retries; records notification.sent / .failed.

Each row is sent while its row lock is held, then marked sent in the same transaction as
the `notification.sent` event. A crash between the SMTP answer and that commit resends
the message once, with the same Message-ID, so mail servers and clients can drop it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import asyncpg

from tidekit.events.envelope import CauseRef
from tidekit.events.notifier import NotificationFailed, NotificationSent
from tidekit.runtime import ServiceRuntime
from tidekit.store.eventstore import ConcurrencyConflict
from tidekit.telemetry import span_from_headers

from .mailer import Mailer
from .settings import NotifierSettings

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.wake = asyncio.Event()
        self.mailer = Mailer(settings)

    async def run(self, runtime: ServiceRuntime) -> None:
        while True:
            try:
                sent = await self.send_due(runtime)
            except (OSError, asyncpg.PostgresError, ConcurrencyConflict) as exc:
                log.warning("sender waiting", extra={"error": repr(exc)})
                sent = 0
                await asyncio.sleep(1.0)
            if sent == 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), 0.5)
                except TimeoutError:
                    pass
                self.wake.clear()

    async def send_due(self, runtime: ServiceRuntime) -> int:
        pool = runtime.require_pool()
        done = 0
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= now()
                   ORDER BY next_attempt_at LIMIT 50 FOR UPDATE SKIP LOCKED"""
            )
            for row in rows:
                # Continue the trace of the event that made this message owed.
                with span_from_headers("send notification", json.loads(row["trace"]), row["tid"]):
                    await self._attempt(runtime, conn, row)
                done += 1
        if done:
            runtime.wake_relay()
        return done

    async def _attempt(
        self, runtime: ServiceRuntime, conn: asyncpg.Connection, row: asyncpg.Record
    ) -> None:
        attempts = row["attempts"] + 1
        now = datetime.now(UTC)
        try:
            await self._smtp_send(row)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            permanent = isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500
            age = (now - row["created_at"]).total_seconds()
            if permanent or age >= self.settings.give_up_after_seconds:
                await self._record(
                    runtime,
                    conn,
                    row,
                    NotificationFailed(
                        tid=row["tid"],
                        notification_id=str(row["notification_id"]),
                        cause_event_id=str(row["cause_event_id"]),
                        kind=row["kind"],
                        channel="email",
                        recipient=row["recipient"],
                        reason=str(exc)[:500],
                        attempts=attempts,
                        failed_at=now,
                    ),
                    "failed",
                    attempts,
                    str(exc),
                )
                return
            delay = min(
                self.settings.retry_initial_seconds * 2 ** (attempts - 1),
                self.settings.retry_max_seconds,
            ) * random.uniform(0.5, 1.0)
            await conn.execute(
                """UPDATE notifications SET attempts = $2, last_error = $3,
                       next_attempt_at = $4 WHERE notification_id = $1""",
                row["notification_id"],
                attempts,
                str(exc)[:500],
                now + timedelta(seconds=delay),
            )
            log.warning("send failed; will retry", extra={"tid": row["tid"], "attempt": attempts})
            return
        await self._record(
            runtime,
            conn,
            row,
            NotificationSent(
                tid=row["tid"],
                notification_id=str(row["notification_id"]),
                cause_event_id=str(row["cause_event_id"]),
                kind=row["kind"],
                channel="email",
                recipient=row["recipient"],
                message_id=row["message_id"],
                attempts=attempts,
                sent_at=now,
            ),
            "sent",
            attempts,
            None,
        )

    async def _record(
        self,
        runtime: ServiceRuntime,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        event: NotificationSent | NotificationFailed,
        state: str,
        attempts: int,
        error: str | None,
    ) -> None:
        version = await runtime.store.stream_version(conn, row["tid"])
        correlation = row["correlation_id"]
        cause = CauseRef(str(row["cause_event_id"]), str(correlation) if correlation else None)
        await runtime.store.append(conn, row["tid"], version, [event], caused_by=cause)
        await conn.execute(
            """UPDATE notifications SET state = $2, attempts = $3, last_error = $4,
                   sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE notification_id = $1""",
            row["notification_id"],
            state,
            attempts,
            error,
        )

    async def _smtp_send(self, row: asyncpg.Record) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.mail_from
        msg["To"] = row["recipient"]
        msg["Subject"] = row["subject"]
        msg["Message-ID"] = row["message_id"]
        msg["Date"] = formatdate(usegmt=True)
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: mail loops stop here
        msg["X-Tidemark-TID"] = row["tid"]
        msg.set_content(row["body"])
        await self.mailer.send(msg)
