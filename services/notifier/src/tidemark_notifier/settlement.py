"""How a delivery's outcome is recorded: sent, failed, or a retry scheduled (the sender's
half that decides and writes; tidemark_notifier.sender delivers). Times: see the sender's
module doc (event times from the runtime clock, the retry schedule in real time)."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import asyncpg

from tidekit.clock import wall_clock_now
from tidekit.events.envelope import CauseRef
from tidekit.events.notifier import NotificationFailed, NotificationSent
from tidekit.messaging.uow import UnitOfWork
from tidekit.store.table_writes import TableWrite

from .outcome import Outcome
from .settings import NotifierSettings

log = logging.getLogger(__name__)
# The row as the lane claimed it: still pending, after the same number of attempts ($6 of
# each outcome's UPDATE).
AS_CLAIMED = "WHERE notification_id = $1 AND state = 'pending' AND attempts = $6"


def gives_up(first_failed_at: datetime | None, now: datetime, give_up_after: float) -> bool:
    """Whether a temporary failure at `now` ends the retries.

    Counted from the first failed attempt (None: this is it), not from when the message was
    owed: a backlog or an outage of the notifier itself must not spend the recipient's time.
    """
    start = first_failed_at or now
    return (now - start).total_seconds() >= give_up_after


def retry_delay(attempts: int, initial: float, maximum: float, rnd: random.Random) -> float:
    """Exponential backoff with jitter: up to initial * 2^(n-1), capped, at least half of it."""
    ceiling = min(initial * 2.0 ** (attempts - 1), maximum)
    return ceiling * rnd.uniform(0.5, 1.0)


async def settle(
    uow: UnitOfWork,
    row: asyncpg.Record,
    outcome: Outcome,
    settings: NotifierSettings,
    rnd: random.Random,
) -> None:
    """Record one delivery's outcome: sent, failed, or a retry scheduled.

    Each write names the row as claimed (still pending, the same attempts): one that no
    longer is was recorded already (a commit whose answer the connection lost, then
    retried), and nothing is written twice. A sent or failed row is staged as the
    `required` write of the event's statement: the statement that checks and locks the
    row writes the event, or nothing."""
    attempts = row["attempts"] + 1
    at = uow.now()  # event time
    now = wall_clock_now()  # retry schedule (see the module's doc)
    common = {
        "tid": row["tid"],
        "notification_id": str(row["notification_id"]),
        "cause_event_id": str(row["cause_event_id"]),
        "kind": row["kind"],
        "channel": row["channel"],
        "recipient": row["recipient"],
        "attempts": attempts,
    }
    if outcome.delivered:
        message_id = row["message_id"] if row["channel"] == "email" else None
        sent = NotificationSent(**common, message_id=message_id, sent_at=at)
        _record(uow, row, sent, "sent", attempts, None, at)
        return
    error = outcome.error or "unknown error"
    first_failed_at = row["first_failed_at"] or now
    if not outcome.retry or gives_up(first_failed_at, now, settings.give_up_after_seconds):
        trying = (now - first_failed_at).total_seconds()
        reason = error if not outcome.retry else f"gave up after {trying:.0f} s: {error}"
        failed = NotificationFailed(**common, reason=reason[:500], failed_at=at)
        _record(uow, row, failed, "failed", attempts, error, at)
        return
    delay = retry_delay(
        attempts,
        settings.retry_initial_seconds,
        settings.retry_max_seconds,
        rnd,
    )
    retrying = await uow.conn.fetchval(
        f"""UPDATE notifications SET attempts = $2, last_error = $3,
               next_attempt_at = $4, first_failed_at = $5 {AS_CLAIMED} RETURNING true""",
        row["notification_id"],
        attempts,
        error,
        now + timedelta(seconds=delay),
        first_failed_at,
        row["attempts"],
    )
    if not retrying:
        return
    log.warning(
        "delivery failed; will retry",
        extra={"tid": row["tid"], "attempt": attempts, "error": error, "retry_in": delay},
    )


def _record(
    uow: UnitOfWork,
    row: asyncpg.Record,
    event: NotificationSent | NotificationFailed,
    state: str,
    attempts: int,
    error: str | None,
    at: datetime,
) -> None:
    settled = TableWrite(
        f"""UPDATE notifications SET state = $2, attempts = $3, last_error = $4,
               sent_at = CASE WHEN $2 = 'sent' THEN $5::timestamptz END {AS_CLAIMED}""",
        (row["notification_id"], state, attempts, error, at, row["attempts"]),
        required=True,  # the event goes with the state it records, or not at all
    )
    uow.stage(settled)
    correlation = row["correlation_id"]
    cause = CauseRef(str(row["cause_event_id"]), str(correlation) if correlation else None)
    uow.record([event], caused_by=cause)
