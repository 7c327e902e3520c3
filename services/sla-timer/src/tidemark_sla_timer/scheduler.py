"""The scheduler worker: sleeps until the next due timer, claims due timers, emits once.

No polling per minute: it sleeps on `runtime.clock.sleep_until(next due, wake)`, where the
next due instant comes from the in-memory `DueIndex` (refilled from Postgres in due order)
and `wake` is set when a handler commits a sooner timer. A real-time safety refill every
`refill_seconds` picks up timers written by another replica.

A claim takes due rows with FOR UPDATE SKIP LOCKED and deletes them; in the same
transaction it inserts their emitted-once keys, appends sla.warning / sla.breached (event
store + outbox) and records breaches. Two replicas never claim the same row; a crash
before the commit leaves the rows for the next claim; nothing is emitted twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter, defaultdict
from datetime import datetime

from prometheus_client import Counter as CounterMetric
from prometheus_client import Histogram

from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Origin
from tidekit.heap import set_start_up_heap_aside
from tidekit.retry import UNTIL_DONE
from tidekit.runtime import ServiceRuntime
from tidekit.store.eventstore import StreamWrite
from tidekit.telemetry import detached_traces

from . import repo
from .catchup import wait_until_caught_up
from .domain import fire
from .index import DueIndex
from .settings import SlaTimerSettings

log = logging.getLogger(__name__)
FIRED = CounterMetric("tidemark_sla_timers_fired_total", "Warnings and breaches emitted", ["kind"])
LATENESS = Histogram(
    "tidemark_sla_timer_lateness_seconds",
    "Emit time minus due time",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 60, 600, 3600),
)


class Scheduler:
    def __init__(self, settings: SlaTimerSettings) -> None:
        self.settings = settings
        self.index = DueIndex(settings.index_size)
        self.wake = asyncio.Event()
        self._offered: list[datetime] = []
        self.ready = False  # caught up with the upstream topics once

    # --- called by handlers and the consumer -----------------------------------------------
    def offer(self, due: datetime) -> None:
        """A handler wrote a timer (not committed yet): remembered until `committed`."""
        self._offered.append(due)

    def committed(self) -> None:
        offered, self._offered = self._offered, []
        if any([self.index.offer(due) for due in offered]):
            self.wake.set()

    # --- the worker --------------------------------------------------------------------
    async def run(self, runtime: ServiceRuntime) -> None:
        if not self.ready:
            await self._catch_up(runtime)
            self.ready = True
            set_start_up_heap_aside()
        self.index.clear()
        while True:
            self.wake.clear()
            now = runtime.clock.now()
            if await self.fire_due(runtime, now):
                # let due timers gather for a moment: one claim for many, instead of a
                # transaction per timer when they fall due a millisecond apart
                await asyncio.sleep(self.settings.claim_pause_seconds)
            self.index.drop_through(now)
            if self.index.needs_refill():
                pool = runtime.require_pool()
                async with pool.acquire() as conn:
                    self.index.refill(await repo.next_due(conn, now, self.index.capacity))
            try:
                async with asyncio.timeout(self.settings.refill_seconds):
                    await runtime.clock.sleep_until(self.index.head(), self.wake)
            except TimeoutError:
                self.index.clear()  # look again: another replica may have written timers

    async def _catch_up(self, runtime: ServiceRuntime) -> None:
        """Late timers wait until the upstream events that arrived meanwhile are handled, so
        a clock met or paused while this service was away is never breached."""
        if self.settings.catch_up_timeout_seconds <= 0:
            return
        spec = runtime.consumers[0]
        group = runtime.group_of(spec)
        try:
            async with asyncio.timeout(self.settings.catch_up_timeout_seconds):
                topics = runtime.topics_of(spec)
                await wait_until_caught_up(runtime.kafka, group, topics)
        except TimeoutError:
            log.warning("upstream not caught up in time; firing due timers anyway")

    async def fire_due(self, runtime: ServiceRuntime, now: datetime) -> int:
        total = 0
        while True:
            # A claim that loses a race or meets a dependency away is run again, not lost.
            claimed = await UNTIL_DONE.run(lambda: self._claim_once(runtime, now))
            total += claimed
            if claimed:
                runtime.wake_relay()
            if claimed < self.settings.claim_batch:
                return total

    async def _claim_once(self, runtime: ServiceRuntime, now: datetime) -> int:
        pool = runtime.require_pool()
        store = runtime.store
        async with pool.acquire() as conn, conn.transaction():
            emit_at = runtime.clock.now()
            timers = await repo.claim_due(conn, now, self.settings.claim_batch, emit_at)
            if not timers:
                return 0
            by_tid: dict[str, list[DomainEvent]] = defaultdict(list)
            for t in timers:
                by_tid[t.tid].append(fire(t, emit_at))
            # Fired by time, not by a request or a record: each ticket's warnings and breaches
            # begin a trace of their own and join the ticket's chain (its correlation id).
            chains = await store.chain_ids(conn, list(by_tid))
            with detached_traces("sla timer fired", by_tid) as traces:
                origins = {tid: Origin(traces[tid], chains.get(tid)) for tid in by_tid}
                # Recorded after what each stream holds (the ticket's timers, claimed
                # above, are what orders this against the consumer's writes).
                await store.write(
                    conn,
                    [StreamWrite(tid, None, events) for tid, events in by_tid.items()],
                    origins=origins,
                )
            self._fault_point()
        fired_by_kind = Counter(t.kind for t in timers)
        for kind, n in fired_by_kind.items():
            FIRED.labels(kind).inc(n)
        for t in timers:
            LATENESS.observe(max((emit_at - t.due_at).total_seconds(), 0.0))
        return len(timers)

    def _fault_point(self) -> None:
        """Testing only: die by SIGKILL once, after appending, before the commit."""
        marker = self.settings.fault_kill_before_commit
        if marker is not None and not marker.exists():
            marker.touch()
            log.warning("fault injection: SIGKILL before commit")
            os.kill(os.getpid(), signal.SIGKILL)
