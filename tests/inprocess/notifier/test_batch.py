"""A consumer batch reads its tickets' rows once, in one statement (the notifier's
`prefetch`, tickets_of), and its handlers keep what they read current: events of one
ticket in one batch see each other's facts as they do one batch each (real PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.fixtures.statements import statements_sent
from tests.unit.notifier import samples as s
from tidekit.events.envelope import Envelope
from tidekit.messaging.uow import UnitOfWork
from tidemark_notifier.service import tickets_of

from .conftest import Notifier, new_tid

pytestmark = pytest.mark.integration


async def test_events_of_one_ticket_in_one_batch_see_each_others_facts(
    notifier: Notifier,
) -> None:
    a, b = new_tid(), new_tid()
    await notifier.consumer.deliver_in_one_batch(
        s.classified(a),
        s.classified(b),
        s.clock_started(a),
        s.clock_started(b),
        s.submitted(a, "ada@example.de"),
        s.submitted(b, "bob@example.de"),
    )
    rows = await notifier.pool.fetch(
        "SELECT tid, kind, recipient, body FROM notifications WHERE tid = ANY($1)", [a, b]
    )
    owed = sorted((r["tid"], r["kind"], r["recipient"]) for r in rows)
    assert owed == sorted(
        [(a, "acknowledgement", "ada@example.de"), (b, "acknowledgement", "bob@example.de")]
    )
    for row in rows:  # the classification and the clock, from earlier records of the batch
        assert "Service level: commercial" in row["body"]
        assert "respond by 2026-11-28 15:00 UTC" in row["body"]


async def test_a_handler_reads_no_ticket_row_its_batch_read(notifier: Notifier) -> None:
    runtime = notifier.consumer.runtime
    sent: dict[bool, list[str]] = {}
    for prefetched in (False, True):
        tid = new_tid()
        event = s.classified(tid)
        on_event = runtime.handlers.handler_for(event)
        async with notifier.pool.acquire() as conn, conn.transaction():
            uow = UnitOfWork(conn, runtime.store, cause=Envelope.wrap(event, source="t/t"))
            batch = await tickets_of(conn, [event]) if prefetched else None
            uow.prefetched = batch
            async with statements_sent(conn) as statements:  # the handler's, not the batch's
                await on_event(event, uow)
                await uow.flush()
        sent[prefetched] = [q for q in statements if "INTO tickets" in q]
        if batch is not None:
            assert batch[tid].level == "commercial"  # kept current for the batch's next ones
    assert len(sent[False]) == 1 and sent[True] == [], sent
