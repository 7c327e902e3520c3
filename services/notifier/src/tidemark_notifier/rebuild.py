"""`tidemark-ops rebuild notifier`: the notifier's `tickets` (what it knows of each ticket)
from the events it consumed (recorded in consumed_events), folded in the order they were
recorded with the handler's own `decide`.

`notifications` is source data and is not rebuilt: each row is a message owed or sent, with
its delivery state, attempts and bounces, which no event carries (a pending message has no
event at all). It is read, though: a ticket's `thread` (the Message-IDs of the mails sent to
its customer, for In-Reply-To) grows by the Message-ID of each customer e-mail the handler
stored, and those ids are the notifications rows'. Which messages are owed and how they are
routed does not change the other columns, so `decide` runs with the default routing and an
e-mail counts when a notifications row says it was stored. Keep `TicketsFold` in step with
service.on_event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.store.consumed import missing_history, source_sql
from tidekit.store.rebuild import Batch, ReadModel, replace_rows, stored_event

from .domain import Routing, TicketFacts, decide, with_thread

COLUMNS = (
    "tid", "requester_email", "requester_name", "channel", "subject", "license_key", "level",
    "severity", "entitlement", "deadline", "queue", "coupon_reason", "coupon_explanation",
    "acknowledged", "coupon_told", "thread",
)  # fmt: skip
CUSTOMER_MAILS = """SELECT cause_key, message_id, created_at FROM notifications
                    WHERE channel = 'email' AND audience = 'customer'
                      AND created_at >= coalesce($1::timestamptz, '-infinity')"""
# A catch-up reads the mails stored since the first read, less this: created_at is its
# transaction's start, and one that began before the read may have committed after it.
OVERLAP = timedelta(minutes=5)


@dataclass
class TicketsFold:
    """`mails`: cause key -> Message-ID of the customer e-mail stored for it."""

    mails: dict[str, str]
    facts: dict[str, TicketFacts] = field(default_factory=dict)
    owed: set[str] = field(default_factory=set)  # cause keys already owed (stored once)
    dirty: set[str] = field(default_factory=set)

    def apply(self, event: DomainEvent, event_id: str) -> None:
        tid = event.stream_id()
        facts, owed = decide(self.facts.get(tid) or TicketFacts(tid), event, event_id, Routing())
        for message in owed:
            if message.channel != "email" or message.audience != "customer":
                continue
            stored = self.mails.get(message.cause_key)
            if stored is not None and message.cause_key not in self.owed:
                facts = with_thread(facts, stored)
            self.owed.add(message.cause_key)
        self.facts[tid] = facts
        self.dirty.add(tid)

    def take_dirty(self) -> tuple[list[str], list[tuple[object, ...]]]:
        tids, self.dirty = sorted(self.dirty), set()
        return tids, [_row(self.facts[t]) for t in tids]


def _row(f: TicketFacts) -> tuple[object, ...]:
    reason, explanation = f.coupon_refusal or (None, None)
    return (
        f.tid, f.requester_email, f.requester_name, f.channel, f.subject, f.license_key,
        f.level, f.severity, f.entitlement, f.deadline, f.queue, reason, explanation,
        f.acknowledged, f.coupon_told, list(f.thread),
    )  # fmt: skip


def read_model() -> ReadModel:
    """The notifier's read model for tidekit.store.rebuild (entry point `tidemark.rebuild`)."""
    fold = TicketsFold(mails={})
    newest: list[datetime | None] = [None]  # created_at of the newest mail read

    async def apply(conn: asyncpg.Connection, rows: Batch) -> None:
        if newest == [None] or not fold.dirty:  # the first batch, or a catch-up
            since = newest[0] - OVERLAP if newest[0] else None
            mails = await conn.fetch(CUSTOMER_MAILS, since)
            fold.mails.update((r["cause_key"], r["message_id"]) for r in mails)
            newest[0] = max((r["created_at"] for r in mails), default=newest[0])
        for row in rows:
            fold.apply(stored_event(row), str(row["event_id"]))

    async def flush(conn: asyncpg.Connection) -> None:
        tids, rows = fold.take_dirty()
        await replace_rows(conn, "tickets", "tid", tids, COLUMNS, rows)

    return ReadModel(["tickets"], source_sql(), apply, flush, refusal=missing_history)
