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
