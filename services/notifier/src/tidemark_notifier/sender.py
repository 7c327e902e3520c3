"""Sends owed messages after commit, with retries; records notification.sent / .failed.

A lane claims up to CLAIM due rows in a short transaction of its own: it pushes their
`next_attempt_at` one lease ahead (`send_lease_seconds`) and commits, so no replica takes
them while it works. It then delivers them one by one, and records each outcome
(`notification.sent` / `.failed`, or the next retry) in a unit of work of its own, one
statement, retried until the database takes it; the next message's envelope goes out
meanwhile, and its DATA only once that record is in (`_send_claimed`). A database that
goes away between a delivery and its record (a restart, a failover) therefore costs a
wait, not a second copy: the sender still knows what it sent and records it when the
database is back.
Only a sender that dies in that window leaves its claimed rows to expire; the one message
it was sending then goes once more, with the same Message-ID (e-mail) or
X-Tidemark-Notification-Id (webhook), so receivers can drop the duplicate, and the rest
of its claim is sent after the lease.
Temporary failures are retried with exponential backoff and jitter until the
give-up time has passed since the first failed attempt; permanent ones fail at once.

Two times: when a message was sent, failed or given up (the events, the notifications row)
is the runtime clock's; the retry schedule (first failure, next attempt, give-up) and the
lease are real time (the database's now(), `wall_clock_now`), since they measure how long
a receiver or a sender has really been away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random

import asyncpg
from prometheus_client import Counter

from tidekit.messaging.uow import UnitOfWork, unit_of_work
from tidekit.retry import RETRYABLE, UNTIL_DONE
from tidekit.runtime import ServiceRuntime
from tidekit.telemetry import span_from_headers

from .mailer import BeforeData, Mailer, build_message
from .outcome import Outcome
from .settings import NotifierSettings
from .settlement import settle
from .webhooks import WebhookPoster

log = logging.getLogger(__name__)
ATTEMPTS = Counter("tidemark_notifier_attempts_total", "Delivery attempts", ["channel", "result"])
BATCH = 50  # messages one lane sends before it looks at the rest of the service's work
# Rows a lane claims at once: its whole batch, one statement. A sender that dies leaves at
# most these waiting for their lease (SEND_LEASE_SECONDS); of them, only the message in
# flight can go twice. The claim is on the sender's critical path (nothing goes out while it
# runs) and each claim's records wake the relay: claims of 10 carried 4-23 % fewer messages
# a second in five alternating pairs (docs/performance.md).
CLAIM = BATCH


class Sender:
    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.wake = asyncio.Event()
        self.mailer = Mailer(settings)
        self.webhooks = WebhookPoster(settings)
        self._random = random.Random()

    async def run(self, runtime: ServiceRuntime) -> None:
        try:
            while True:
                try:
                    sent = await self.send_due(runtime)
                except (*RETRYABLE, asyncpg.PostgresError) as exc:
                    log.warning("sender waiting", extra={"error": repr(exc)})
                    sent = 0
                    await asyncio.sleep(1.0)
                if sent == 0:
                    try:
                        await asyncio.wait_for(self.wake.wait(), 0.5)
                    except TimeoutError:
                        pass
                    self.wake.clear()
        finally:
            await self.mailer.close()
            await self.webhooks.close()

    async def send_due(self, runtime: ServiceRuntime) -> int:
        """Due messages, claimed a few at a time, then each delivered and recorded on its
        own (see the module's doc). `send_concurrency` lanes (default 1) send side by side,
        up to BATCH messages each; a sender that dies repeats at most one message per lane."""
        lanes = self.settings.send_concurrency
        return sum(await asyncio.gather(*(self._send_lane(runtime) for _ in range(lanes))))

    async def _send_lane(self, runtime: ServiceRuntime) -> int:
        handled = 0
        while handled < BATCH:
            claimed, lease_ends = await self._claim(runtime)
            if not claimed:
                break
            handled += await self._send_claimed(runtime, claimed, lease_ends)
        return handled

    async def _send_claimed(
        self, runtime: ServiceRuntime, claimed: list[asyncpg.Record], lease_ends: float
    ) -> int:
        """Deliver and record the claimed rows in order; how many were recorded.

        A message's record is in flight while the next one's envelope goes out (MAIL FROM,
        RCPT TO), and that message's DATA waits for the record: the round trips overlap,
        and a sender that dies still leaves at most one message sent and not recorded."""
        loop = asyncio.get_running_loop()
        recording: asyncio.Task[None] | None = None  # the previous message's record
        recorded = 0

        async def previous_recorded() -> None:
            nonlocal recording, recorded
            if recording is not None:
                task, recording = recording, None
                await task
                recorded += 1

        async def before_data() -> None:
            await previous_recorded()
            # A delivery must end inside the lease, or another replica could take the row
            # and send it too: a record that waited for the database may have used it up.
            if loop.time() + self._longest_delivery() > lease_ends:
                raise _LeaseEnding

        try:
            for row in claimed:
                # What is left when the lease runs short waits for it to run out.
                if loop.time() + self._longest_delivery() > lease_ends:
                    break
                try:
                    outcome = await self._deliver(row, before_data)
                except _LeaseEnding:
                    break
                await previous_recorded()  # a refused envelope did not wait for it
                recording = asyncio.create_task(self._record_until_done(runtime, row, outcome))
            await previous_recorded()
        except BaseException as exc:
            if recording is not None:
                # That message was delivered: its record goes on, unless the lane is being
                # cancelled (shutting down), which ends it as it would end any statement.
                if isinstance(exc, asyncio.CancelledError):
                    recording.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await previous_recorded()
            raise
        finally:
            if recorded:
                # One relay batch for the claim's notification.sent / .failed events, not
                # one per message: a relay batch is two statements and a Kafka request,
                # and every group reading the topic answers it with a fetch of its own.
                runtime.wake_relay()
        return recorded

    def _longest_delivery(self) -> float:
        s = self.settings
        return 2 * max(s.smtp_timeout_seconds, s.webhook_timeout_seconds)

    async def _claim(self, runtime: ServiceRuntime) -> tuple[list[asyncpg.Record], float]:
        """Up to CLAIM due rows, leased to this lane for `send_lease_seconds` (committed: one
        statement, its own transaction)."""
        lease = self.settings.send_lease_seconds
        lease_ends = asyncio.get_running_loop().time() + lease
        async with runtime.require_pool().acquire() as conn:
            rows = await conn.fetch(
                """UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2)
                   WHERE notification_id IN (
                       SELECT notification_id FROM notifications
                        WHERE state = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
                   RETURNING *""",
                CLAIM,
                lease,
            )
        return sorted(rows, key=lambda r: r["created_at"]), lease_ends

    async def _record_until_done(
        self, runtime: ServiceRuntime, row: asyncpg.Record, outcome: Outcome
    ) -> None:
        """Record one delivery's outcome, retried while the database is away: what was
        delivered stays known to this process until the database has it."""

        async def record() -> None:
            pool = runtime.require_pool()
            # One statement, its own transaction: the row's check, its new state and the
            # event (docs/performance.md: five round trips were 40 % of a message's time).
            # The relay is woken once the claim's messages are recorded (_send_lane).
            async with unit_of_work(pool, runtime.store, _later, one_statement=True) as uow:
                # notification.sent / .failed continue the trace of the message's cause.
                with span_from_headers("record notification", _trace(row), row["tid"]):
                    await self.settle(uow, row, outcome)

        await UNTIL_DONE.run(record)

    async def _deliver(self, row: asyncpg.Record, before_data: BeforeData) -> Outcome:
        """One attempt; `before_data` is awaited before the message is handed over (for an
        e-mail, between its envelope and its DATA)."""
        # Continue the trace of the event that made this message owed.
        with span_from_headers("send notification", _trace(row), row["tid"]):
            if row["channel"] == "webhook":
                await before_data()
                payload = json.loads(row["payload"]) if row["payload"] else {}
                outcome = await self.webhooks.post(
                    row["recipient"], str(row["notification_id"]), payload
                )
            else:
                message = build_message(
                    mail_from=self.settings.mail_from,
                    recipient=row["recipient"],
                    subject=row["subject"],
                    text=row["body"],
                    html=row["html"],
                    message_id=row["message_id"],
                    tid=row["tid"],
                    headers=json.loads(row["headers"]),
                    staff=row["audience"] == "staff",
                )
                outcome = await self.mailer.deliver(message, before_data)
        result = "sent" if outcome.delivered else ("retry" if outcome.retry else "failed")
        ATTEMPTS.labels(row["channel"], result).inc()
        return outcome

    async def settle(self, uow: UnitOfWork, row: asyncpg.Record, outcome: Outcome) -> None:
        """Record one delivery's outcome (tidemark_notifier.settlement)."""
        await settle(uow, row, outcome, self.settings, self._random)


class _LeaseEnding(Exception):
    """The claim's lease is too short for another delivery: the rest waits for it to end."""


def _later() -> None:
    """A record's unit of work does not wake the relay itself (see _send_lane)."""


def _trace(row: asyncpg.Record) -> dict[str, str]:
    trace: dict[str, str] = json.loads(row["trace"])
    return trace
