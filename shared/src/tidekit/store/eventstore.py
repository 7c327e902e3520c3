"""Append-only event store with optimistic concurrency per stream, plus the outbox write.

`append` writes the events and their outbox rows with the caller's connection, so they
commit (or roll back) together with whatever else the handler wrote in that transaction.
The store is bound to its service's runtime clock: ce_time is that clock's time, like the
times in the events' data, never the machine's when a test set the clock elsewhere.
"""

from __future__ import annotations

import functools
import json
from binascii import b2a_base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tidekit.clock import Clock
from tidekit.events.base import DomainEvent, EventRegistry
from tidekit.events.envelope import Cause, Envelope, Origin
from tidekit.store.append_sql import APPEND_MANY, LOCK_RECORDED
from tidekit.store.table_writes import TableWrite, table_writes_alone, with_table_writes
from tidekit.telemetry import current_trace_headers


def outbox_headers_json(headers: Sequence[tuple[str, bytes]]) -> str:
    """The outbox's headers column: the text of `json.dumps([[name, base64 of value], ...])`,
    written out (json.dumps and b64encode per header cost more than the rest of a row). A
    base64 text needs no escaping in JSON; a name is escaped once, then remembered."""
    pairs = [f'[{_json_name(k)}, "{b2a_base64(v, newline=False).decode()}"]' for k, v in headers]
    return "[" + ", ".join(pairs) + "]"


@functools.lru_cache(maxsize=64)
def _json_name(name: str) -> str:
    return json.dumps(name)


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first; reload, decide again, retry."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is past version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class StreamWrite:
    """Events for one stream: after `expected` (append, checked), or after whatever the
    stream holds (`expected` None: record, serialised by a per-stream lock, never a
    conflict); `caused_by` is the message they answer, if any."""

    stream_id: str
    expected: int | None
    events: Sequence[DomainEvent]
    caused_by: Cause | None = None
    trace: Mapping[str, str] | None = None  # the span they were decided in, if not the current


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
        writes = [StreamWrite(s, v, evs, caused_by) for s, v, evs in streams]
        return await self.write(conn, writes, occurred_at=occurred_at, origins=origins)

    async def write(
        self,
        conn: asyncpg.Connection,
        writes: Sequence[StreamWrite],
        *,
        occurred_at: datetime | None = None,
        origins: Mapping[str, Origin] | None = None,
        table_writes: Sequence[TableWrite] = (),
        atomic_alone: bool = False,
    ) -> list[Envelope]:
        """The events of all `writes`, their outbox rows and `table_writes` in one statement
        (in a transaction, preceded by one that locks the recorded streams, if any); see
        `append_many`. Returns the events written: none when a `required` table write
        changed no row.

        Outside a transaction only when `atomic_alone` (the caller wrote nothing else on
        this connection: its unit of work writes in one statement, see uow.py); the
        statement is then its own transaction and takes the recorded streams' locks
        itself."""
        alone = not conn.is_in_transaction()
        if alone and not atomic_alone:
            raise RuntimeError("EventStore.append must run inside a transaction")
        time = occurred_at if occurred_at is not None else self.clock.now()
        # The current span's trace, read (an inject, microseconds) only for a write that
        # carries none and has no origin: a unit of work's writes carry theirs.
        current: Mapping[str, str] | None = None
        rows: list[tuple[StreamWrite, int, Envelope]] = []
        recorded_so_far: dict[str, int] = {}  # a recorded stream's events so far, all writes
        for w in writes:
            origin = (origins or {}).get(w.stream_id)
            trace = w.trace if w.trace is not None else origin.trace if origin else None
            if trace is None:
                trace = current = current_trace_headers() if current is None else current
            first = 1 if w.expected is not None else recorded_so_far.get(w.stream_id, 0) + 1
            if w.expected is None:
                recorded_so_far[w.stream_id] = first - 1 + len(w.events)
            for n, e in enumerate(w.events, start=first):
                env = Envelope.wrap(
                    e,
                    source=self.source,
                    time=time,
                    caused_by=w.caused_by,
                    chain=origin.correlation_id if origin else None,
                    trace=trace,
                )
                if env.subject != w.stream_id:
                    raise ValueError(f"event for {env.subject} appended to stream {w.stream_id}")
                rows.append((w, n, env))
        if not rows:
            if table_writes:
                await table_writes_alone(conn, table_writes)
            return []
        recorded = sorted({w.stream_id for w in writes if w.expected is None and w.events})
        if recorded and not alone:
            await conn.execute(LOCK_RECORDED, recorded)
        records = [env.to_kafka() for _, _, env in rows]
        sql, args = with_table_writes(
            APPEND_MANY,
            [
                [w.stream_id for w, _, _ in rows],
                [w.expected for w, _, _ in rows],
                [env.id for _, _, env in rows],
                [env.type for _, _, env in rows],
                [env.schema_version for _, _, env in rows],
                [env.causation_id for _, _, env in rows],
                [env.correlation_id for _, _, env in rows],
                rows[0][2].time,  # every event's, as wrapped above
                self.topic,
                [value for _, value, _ in records],
                [outbox_headers_json(headers) for _, _, headers in records],
                [n for _, n, _ in rows],
                recorded if alone else [],
            ],
            table_writes,
        )
        try:
            status = await conn.execute(sql, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "events_stream_version":
                raise
            if alone and recorded:
                # Perhaps a writer of a recorded stream committed while this statement
                # waited for its lock (see APPEND_MANY): nothing was written; again, the
                # locks taken before the statement's snapshot (a stale expected version
                # of an appended stream is then raised as the conflict it is).
                async with conn.transaction():
                    return await self.write(
                        conn, writes, occurred_at=time, origins=origins,
                        table_writes=table_writes,
                    )  # fmt: skip
            named = next(w for w in writes if w.events)
            raise ConcurrencyConflict(named.stream_id, named.expected or 0) from exc
        if status.endswith(" 0"):  # "INSERT 0 <outbox rows>": a required write changed no row
            return []
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
