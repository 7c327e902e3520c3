"""One consumer batch in one transaction, with as few statements as the records allow.

The inbox claim of the whole batch is one statement (`claim`): the ids it returns are the
records handled now, the others are redeliveries. Each handled record then costs its
handler's own statements and one write at the end (its events, outbox rows and, when the
consumer keeps them, its `consumed_events` row, all staged on its unit of work).

A handler that raises a non-transient error must not take the other records down with it,
which would take a savepoint per record (two more round trips each). Instead the batch
runs without them first (`Isolation.NONE`); if a handler fails, that attempt is rolled
back as a whole (`HandlerFailed`) and the batch runs again with a savepoint per record
(`Isolation.PER_RECORD`), where the failing one is rolled back alone, its inbox row
released (so a redrive of its dead letter is handled, not taken for a redelivery) and
reported for the DLQ. Poison records are rare; the common batch pays for no savepoint.

A service whose handlers begin by taking an advisory lock per ticket (`lock_key`) has the
batch's locks taken by the claim statement itself, in one sorted pass (so two batches never
wait on each other in opposite orders), before any handler runs; each unit of work lists
them in `held_locks`, and a handler takes only the locks not there. The locks last until
the batch's transaction ends, as a handler's own would, and no savepoint releases them.

A service can also read what its handlers would each read first, for the whole batch in one
statement (`prefetch`, e.g. the tickets' rows, locked): each unit of work carries it as
`prefetched`, a mapping the batch's handlers share and keep current as they change what
it holds. A record-by-record retry runs without it (a record rolled back to its savepoint
could have changed it), so its handlers read for themselves.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.messaging.registry import HandlerRegistry
from tidekit.messaging.uow import UnitOfWork
from tidekit.retry import RETRYABLE
from tidekit.store import consumed
from tidekit.store.eventstore import EventStore
from tidekit.telemetry import span_from_headers

log = logging.getLogger(__name__)

Wanted = tuple[ConsumerRecord[bytes, bytes], tuple[DomainEvent, Envelope]]

_CLAIM = """
INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
ON CONFLICT DO NOTHING RETURNING event_id
"""
# The same claim, after the advisory locks of the batch's keys, taken in sorted order.
_LOCK_AND_CLAIM = """
WITH locks AS (
    SELECT pg_advisory_xact_lock(hashtext(k))
    FROM (SELECT DISTINCT unnest($6::text[]) AS k ORDER BY 1) AS keys
)
INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
WHERE (SELECT count(*) FROM locks) >= 0
ON CONFLICT DO NOTHING RETURNING event_id
"""
_RELEASE = "DELETE FROM inbox WHERE consumer = $1 AND event_id = $2"
# An event's advisory lock key (`hashtext` of it), or None: what its handler locks first.
LockKey = Callable[[DomainEvent], str | None]
# What the batch's handlers would each read first, read for all its events at once.
Prefetch = Callable[[asyncpg.Connection, Sequence[DomainEvent]], Awaitable[dict[str, Any]]]


# What a record's unit of work gets from its batch: the locks held, what was prefetched.
_Batch = tuple[frozenset[str], dict[str, Any] | None]


class Isolation(enum.Enum):
    NONE = "none"  # one transaction for the batch; a handler error fails it whole
    PER_RECORD = "per_record"  # each record in a savepoint; a handler error fails it alone


class HandlerFailed(Exception):
    """A handler raised a non-transient error while the batch ran without savepoints."""


@dataclass(frozen=True)
class Failed:
    record: ConsumerRecord[bytes, bytes]
    reason: str


@dataclass
class BatchOutcome:
    done: list[UnitOfWork]  # units of work of the records handled now, in order
    failed: list[Failed]  # records whose handler failed (to be dead-lettered)
    duplicates: int  # redeliveries: already in the inbox


@dataclass(frozen=True)
class BatchHandler:
    """How one consumer group handles a batch of records of one partition."""

    consumer: str
    handlers: HandlerRegistry
    store: EventStore
    record_consumed: bool
    lock_key: LockKey | None = None  # see the module's doc
    prefetch: Prefetch | None = None  # see the module's doc

    async def run(self, pool: asyncpg.Pool, wanted: Sequence[Wanted]) -> BatchOutcome:
        try:
            return await self._attempt(pool, wanted, Isolation.NONE)
        except HandlerFailed:
            return await self._attempt(pool, wanted, Isolation.PER_RECORD)

    async def _attempt(
        self, pool: asyncpg.Pool, wanted: Sequence[Wanted], isolation: Isolation
    ) -> BatchOutcome:
        outcome = BatchOutcome([], [], 0)
        async with pool.acquire() as conn, conn.transaction():
            first_time, held = await self._claim(conn, wanted)
            shared = None  # a record-by-record retry reads for itself (the module's doc)
            if self.prefetch is not None and isolation is Isolation.NONE:
                fresh = [e for _, (e, env) in wanted if _inbox_key(env) in first_time]
                shared = await self.prefetch(conn, fresh) if fresh else {}
            batch: _Batch = (held, shared)
            for record, (event, envelope) in wanted:
                event_id = _inbox_key(envelope)
                if event_id not in first_time:  # in the inbox before, or earlier in this batch
                    outcome.duplicates += 1
                    continue
                first_time.discard(event_id)
                name = f"consume {envelope.type}"
                with span_from_headers(name, envelope.trace, envelope.subject):
                    if isolation is Isolation.NONE:
                        handled = await self._handle_or_fail(conn, event, envelope, batch)
                        outcome.done.append(handled)
                        continue
                    try:
                        async with conn.transaction():
                            outcome.done.append(await self._handle(conn, event, envelope, batch))
                    except RETRYABLE:
                        raise
                    except Exception as exc:
                        log.exception("handler failed; record to be dead-lettered")
                        await conn.execute(_RELEASE, self.consumer, event_id)
                        reason = f"handler error: {type(exc).__name__}: {exc}"
                        outcome.failed.append(Failed(record, reason))
        return outcome

    async def _claim(
        self, conn: asyncpg.Connection, wanted: Sequence[Wanted]
    ) -> tuple[set[str], frozenset[str]]:
        """Insert every record's (consumer, event id) into the inbox in one statement: the
        ids that were not there yet (a repeated id counts once), and the lock keys that
        statement took first (`lock_key`)."""
        args = (
            self.consumer,
            [_inbox_key(envelope) for _, (_, envelope) in wanted],
            [record.topic for record, _ in wanted],
            [record.partition for record, _ in wanted],
            [record.offset for record, _ in wanted],
        )
        keys = [self.lock_key(event) for _, (event, _) in wanted] if self.lock_key else []
        held = frozenset(key for key in keys if key is not None)
        if held:
            rows = await conn.fetch(_LOCK_AND_CLAIM, *args, sorted(held))
        else:
            rows = await conn.fetch(_CLAIM, *args)
        return {str(row["event_id"]) for row in rows}, held

    async def _handle_or_fail(
        self, conn: asyncpg.Connection, event: DomainEvent, envelope: Envelope, batch: _Batch
    ) -> UnitOfWork:
        try:
            return await self._handle(conn, event, envelope, batch)
        except RETRYABLE:
            raise
        except Exception as exc:
            raise HandlerFailed(envelope.id) from exc

    async def _handle(
        self, conn: asyncpg.Connection, event: DomainEvent, envelope: Envelope, batch: _Batch
    ) -> UnitOfWork:
        uow = UnitOfWork(conn, self.store, cause=envelope)
        uow.held_locks, uow.prefetched = batch
        if self.record_consumed:
            uow.stage(consumed.row(self.consumer, envelope))
        await self.handlers.handle(event, uow)
        await uow.flush()
        return uow


def _inbox_key(envelope: Envelope) -> str:
    """The event id as the inbox's uuid column gives it back (lower case, hyphenated), so
    an id a publisher wrote otherwise is still found among the claimed ones. The consumer
    dead-letters records whose id is not a UUID before they get here."""
    return str(uuid.UUID(envelope.id))
