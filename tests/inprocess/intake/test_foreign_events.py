"""Other services' events folded into intake's ticket rows: a ticket's queue, which nothing
in the handler reads back, goes with the flush's statement (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fixtures.statements import statements_sent
from tidekit.events.envelope import Envelope
from tidekit.events.escalation import TicketQueued
from tidekit.messaging.uow import UnitOfWork

from .conftest import Desk

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_a_queue_is_written_with_the_history_row_in_one_statement(desk: Desk) -> None:
    tid = await desk.submit(T0)
    queued = TicketQueued(
        tid=tid, queue="tier2", submitted_at=T0, rule="default", reason="test", queued_at=T0
    )
    runtime = desk.service.runtime
    async with runtime.require_pool().acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, runtime.store, cause=Envelope.wrap(queued, source="tidemark/t"))
        await runtime.handlers.handle(queued, uow)  # as the consumer does
        read = "SELECT queue FROM tickets WHERE tid = $1"
        assert await conn.fetchval(read, tid) is None  # decided, not yet written
        async with statements_sent(conn) as statements:
            await uow.flush()
        assert await conn.fetchval(read, tid) == "tier2"
    (flushed,) = statements
    assert "INSERT INTO foreign_events" in flushed and "UPDATE tickets SET queue" in flushed
    assert (await desk.ticket(tid))["queue"] == "tier2"
