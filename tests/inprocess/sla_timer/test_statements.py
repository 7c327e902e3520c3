"""A consumed clock input costs as few statements as its reads allow (real PostgreSQL): the
new input is inserted by the statement that reads the ticket's earlier ones, and the
timers' removal is what waits for a scheduler claim in flight on them, before the emitted
keys are read (so they include what that claim emitted)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.statements import statements_sent
from tidekit.events.envelope import Envelope
from tidekit.messaging.uow import UnitOfWork

from . import upstream as up
from .conftest import StartTimer

pytestmark = pytest.mark.integration
M = timedelta(minutes=1)


async def test_an_input_is_read_and_added_at_once_and_the_timers_lock_is_their_delete(
    start_timer: StartTimer,
) -> None:
    timer = await start_timer()
    t = timer.now()
    tid = up.new_tid()
    await timer.deliver(up.classified(tid, t))
    event = up.staff_reply(tid, t + 5 * M)
    handler = timer.runtime.handlers.handler_for(event)
    async with timer.pool.acquire() as conn, conn.transaction(), statements_sent(conn) as sent:
        uow = UnitOfWork(conn, timer.runtime.store, cause=Envelope.wrap(event, source="t/t"))
        await handler(event, uow)
        await uow.flush()

    def where(word: str) -> list[int]:
        return [n for n, query in enumerate(sent) if word in query]

    assert len(where("clock_inputs")) == 1, sent
    assert not [q for q in sent if "FROM timers" in q and "FOR UPDATE" in q], sent
    (dropped,) = where("DELETE FROM timers")
    (read_emitted,) = [n for n in where("FROM sla_emitted") if "INSERT" not in sent[n]]
    assert dropped < read_emitted, sent
    assert await timer.types(tid) == ["sla.clock_started", "sla.clock_met"]


async def test_a_batch_reads_its_tickets_once_and_its_handlers_see_each_others_facts(
    start_timer: StartTimer,
) -> None:
    """The batch's tickets are read and locked in one statement (`tickets_of`); a ticket
    classified earlier in the batch is classified for the handlers after it."""
    timer = await start_timer()
    t = timer.now()
    a, b = up.new_tid(), up.new_tid()
    await timer.consumer.deliver_in_one_batch(
        up.classified(a, t), up.classified(b, t), up.staff_reply(a, t + 5 * M)
    )
    assert await timer.types(a) == ["sla.clock_started", "sla.clock_met"]
    assert await timer.types(b) == ["sla.clock_started"]

    event = up.staff_reply(b, t + 6 * M)
    async with timer.pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, timer.runtime.store, cause=Envelope.wrap(event, source="t/t"))
        (spec,) = timer.runtime.consumers
        assert spec.prefetch is not None
        uow.prefetched = await spec.prefetch(conn, [event])
        async with statements_sent(conn) as sent:  # the handler's, not the batch's read
            await timer.runtime.handlers.handler_for(event)(event, uow)
            await uow.flush()
    assert not [q for q in sent if "sla_tickets" in q], sent
    assert await timer.types(b) == ["sla.clock_started", "sla.clock_met"]
