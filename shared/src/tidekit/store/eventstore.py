"""Append-only event store with optimistic concurrency per stream, plus the outbox write.

`append` writes the events and their outbox rows with the caller's connection, so they
commit (or roll back) together with whatever else the handler wrote in that transaction.
The store is bound to its service's runtime clock: ce_time is that clock's time, like the
times in the events' data, never the machine's when a test set the clock elsewhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tidekit.clock import Clock
from tidekit.events.base import DomainEvent, EventRegistry
from tidekit.events.envelope import Cause, Envelope, Origin
from tidekit.telemetry import current_trace_headers

_APPEND_MANY = """
WITH appended AS (
    INSERT INTO events (stream_id, version, event_id, event_type, schema_version, data,
                        causation_id, correlation_id, occurred_at)
    SELECT s, v, id, t, sv, d::jsonb, c, r, o
    FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::text[],
                $7::uuid[], $8::uuid[], $9::timestamptz[]) AS e(s, v, id, t, sv, d, c, r, o)
    RETURNING event_id
)
INSERT INTO outbox (event_id, topic, record_key, record_value, headers)
SELECT id, $10, k, val, h::jsonb
FROM unnest($3::uuid[], $11::bytea[], $12::bytea[], $13::text[]) AS o(id, k, val, h)
WHERE (SELECT count(*) FROM appended) > 0
"""


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first; reload, decide again, retry."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is past version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class StoredEvent:
    position: int
    version: int
    envelope: Envelope
    recorded_at: datetime


class EventStore:
    """The event store of one service: its CloudEvents `source` and its own topic."""

    def __init__(self, *, source: str, topic: str, registry: EventRegistry, clock: Clock) -> None:
        self.source = source
        self.topic = topic
        self.registry = registry
        self.clock = clock

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version)

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        caused_by: Cause | None = None,
        occurred_at: datetime | None = None,
    ) -> list[Envelope]:
        """Append after `expected_version` (0 for a new stream) and queue them for Kafka.

        Raises ConcurrencyConflict when the stream has moved on. Must run inside a
        transaction: the events and the outbox rows land together or not at all.
        """
        return await self.append_many(
            conn, [(stream_id, expected_version, events)], caused_by=caused_by,
            occurred_at=occurred_at,
        )  # fmt: skip

    async def append_many(
        self,
        conn: asyncpg.Connection,
        streams: Sequence[tuple[str, int, Sequence[DomainEvent]]],
        *,
        caused_by: Cause | None = None,
        occurred_at: datetime | None = None,
        origins: Mapping[str, Origin] | None = None,
    ) -> list[Envelope]:
        """`append` for several (stream id, expected version, events) in one statement: the
        events and their outbox rows, no savepoint (a conflict aborts the caller's
        transaction, which the caller retries whole). Raises ConcurrencyConflict, naming the
        first stream, when any has moved on.

        ce_time is `occurred_at`, else the store's clock now. Trace context is the current
        span's, except for streams given an Origin in `origins` (by stream id): their events
        take its trace and, having no cause, join its chain."""
        if not conn.is_in_transaction():
            raise RuntimeError("EventStore.append must run inside a transaction")
        time = occurred_at if occurred_at is not None else self.clock.now()
        current = Origin(trace=current_trace_headers())
        rows: list[tuple[str, int, Envelope]] = []
        for stream_id, expected, events in streams:
            origin = (origins or {}).get(stream_id, current)
            for n, e in enumerate(events, start=1):
                env = Envelope.wrap(
                    e,
                    source=self.source,
                    time=time,
                    caused_by=caused_by,
                    chain=origin.correlation_id,
                    trace=origin.trace,
                )
                if env.subject != stream_id:
                    raise ValueError(f"event for {env.subject} appended to stream {stream_id}")
                rows.append((stream_id, expected + n, env))
        if not rows:
            return []
        records = [env.to_kafka() for _, _, env in rows]
        try:
            await conn.execute(
                _APPEND_MANY,
                [s for s, _, _ in rows],
                [v for _, v, _ in rows],
                [env.id for _, _, env in rows],
                [env.type for _, _, env in rows],
                [env.schema_version for _, _, env in rows],
                [json.dumps(env.data) for _, _, env in rows],
                [env.causation_id for _, _, env in rows],
                [env.correlation_id for _, _, env in rows],
                [env.time for _, _, env in rows],
                self.topic,
                [key for key, _, _ in records],
                [value for _, value, _ in records],
                [
                    json.dumps([[k, base64.b64encode(v).decode()] for k, v in headers])
                    for _, _, headers in records
                ],
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version":
                raise ConcurrencyConflict(streams[0][0], streams[0][1]) from exc
            raise
        return [env for _, _, env in rows]

    async def chain_ids(
        self, conn: asyncpg.Connection, stream_ids: Sequence[str]
    ) -> dict[str, str]:
        """The correlation id of each stream's first event (the chain a ticket began with),
        for the streams that have events."""
        rows = await conn.fetch(
            """SELECT DISTINCT ON (stream_id) stream_id, correlation_id FROM events
               WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version""",
            list(stream_ids),
        )
        return {r["stream_id"]: str(r["correlation_id"]) for r in rows if r["correlation_id"]}

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
        rows = await conn.fetch(
            "SELECT * FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
        return [self._stored(r) for r in rows]

    async def read_all(
        self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000
    ) -> list[StoredEvent]:
        rows = await conn.fetch(
            "SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return [self._stored(r) for r in rows]

    def _stored(self, row: asyncpg.Record) -> StoredEvent:
        envelope = Envelope(
            id=str(row["event_id"]),
            type=row["event_type"],
            source=self.source,
            subject=row["stream_id"],
            time=row["occurred_at"],
            schema_version=row["schema_version"],
            data=json.loads(row["data"]),
            causation_id=str(row["causation_id"]) if row["causation_id"] else None,
            correlation_id=str(row["correlation_id"]) if row["correlation_id"] else None,
        )
        return StoredEvent(row["position"], row["version"], envelope, row["recorded_at"])
