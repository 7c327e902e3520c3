"""The unit of work: one connection and transaction, its event writes buffered to the end.

A handler gets one (`(message, uow)`), reads and writes tables with `uow.conn`, and hands
its events over with `append` (a stream it replays: the version it loaded is checked) or
`record` (a service whose state lives in table rows: the events follow whatever the stream
holds; the lock on the state row is what orders the decisions, and the store's per-stream
lock keeps versions dense, so no conflict is ever pretended). The events and their outbox
rows are written in one statement when the work is done, carrying the cause (the consumed
envelope) for causation and correlation. Writes to the service's own tables can go into
that same statement (`stage`: a TableWrite becomes one of its CTEs). After a commit that
wrote events the relay is woken; `on_commit` callbacks run then too, and never after a
rollback.

A handler that writes only through the unit of work (`stage`, `append`, `record`) can be
registered `one_statement=True`: its unit of work then opens no transaction, its reads see
committed rows, and its writes are the one statement of the flush, atomic by itself: one
round trip instead of BEGIN, the writes and COMMIT (intake's new ticket: docs/performance.md).
There the flush commits: such a handler may call `flush` itself to learn the outcome (a
unique violation, say) and answer from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Cause, Envelope
from tidekit.store.eventstore import EventStore, StreamWrite
from tidekit.store.table_writes import TableWrite
from tidekit.telemetry import current_trace_headers


class UnitOfWork:
    def __init__(
        self,
        conn: asyncpg.Connection,
        store: EventStore,
        *,
        cause: Cause | None = None,
        one_statement: bool = False,
    ) -> None:
        self.conn = conn
        self.store = store
        self.cause = cause
        self.one_statement = one_statement  # no transaction: the flush is the one statement
        self._writes: list[StreamWrite] = []
        self._table_writes: list[TableWrite] = []
        self._streams: dict[str, str] = {}  # stream -> "append" or "record"
        self._callbacks: list[Callable[[], None]] = []
        self.written: list[Envelope] = []  # what `flush` wrote, in order
        # Advisory lock keys (`hashtext`) this unit's transaction holds already: a consumer
        # batch takes its handlers' ticket locks with its inbox claim (tidekit.kafka.batch).
        self.held_locks: frozenset[str] = frozenset()
        # What the consumer batch read for all its records at once (BatchHandler.prefetch),
        # shared by its handlers, who keep it current; None: read for yourself.
        self.prefetched: dict[str, Any] | None = None

    def now(self) -> datetime:
        """The runtime clock's time (the store's clock, the one events are stamped with)."""
        return self.store.clock.now()

    def append(self, stream_id: str, expected_version: int, events: Sequence[DomainEvent]) -> None:
        """Events for a stream the handler replayed up to `expected_version`; at flush a
        writer that got there first makes it raise ConcurrencyConflict (retry the whole)."""
        if stream_id in self._streams:
            raise ValueError(f"stream {stream_id} written twice in one unit of work")
        self._streams[stream_id] = "append"
        self._writes.append(
            StreamWrite(stream_id, expected_version, list(events), self.cause, _trace())
        )

    def record(self, events: Sequence[DomainEvent], *, caused_by: Cause | None = None) -> None:
        """Events of a service that keeps its state in tables, each on its ticket's stream
        after whatever that stream holds. `caused_by` replaces the unit's cause (a worker
        settling several messages, each with a cause of its own)."""
        by_stream: dict[str, list[DomainEvent]] = {}
        for event in events:
            by_stream.setdefault(event.stream_id(), []).append(event)
        for stream, stream_events in by_stream.items():
            if self._streams.setdefault(stream, "record") != "record":
                raise ValueError(f"stream {stream} both appended and recorded")
            cause = caused_by if caused_by is not None else self.cause
            self._writes.append(StreamWrite(stream, None, stream_events, cause, _trace()))

    def stage(self, write: TableWrite) -> None:
        """A write to one of the service's tables, sent with the events at flush in their
        statement (see TableWrite for what it may be)."""
        self._table_writes.append(write)

    @property
    def pending(self) -> list[DomainEvent]:
        """The events buffered, not yet flushed (what a handler decided)."""
        return [e for w in self._writes for e in w.events]

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never after a rollback)."""
        self._callbacks.append(callback)

    async def flush(self) -> list[Envelope]:
        """Write the buffered events, their outbox rows and the staged table writes in one
        statement."""
        writes, self._writes = self._writes, []
        table_writes, self._table_writes = self._table_writes, []
        self._streams.clear()
        envelopes = await self.store.write(
            self.conn, writes, table_writes=table_writes, atomic_alone=self.one_statement
        )
        self.written += envelopes
        return envelopes

    def committed(self, wake_relay: Callable[[], None]) -> None:
        """The transaction has committed: wake the relay if events were written, then run
        the callbacks."""
        if self.written:
            wake_relay()
        for callback in self._callbacks:
            callback()


def _trace() -> dict[str, str]:
    # Events carry the trace of the span they were decided in, not the one of the flush.
    return current_trace_headers()


@asynccontextmanager
async def unit_of_work(
    pool: asyncpg.Pool,
    store: EventStore,
    wake_relay: Callable[[], None],
    *,
    cause: Cause | None = None,
    one_statement: bool = False,
) -> AsyncIterator[UnitOfWork]:
    """A unit of work on a connection of its own: flushed and committed when the block
    ends, rolled back (nothing written, no callback) when it raises. With `one_statement`
    no transaction is opened: the flush is one statement (see the module's docstring)."""
    async with pool.acquire() as conn:
        if one_statement:
            uow = UnitOfWork(conn, store, cause=cause, one_statement=True)
            yield uow
            await uow.flush()
        else:
            async with conn.transaction():
                uow = UnitOfWork(conn, store, cause=cause)
                yield uow
                await uow.flush()
        uow.committed(wake_relay)
