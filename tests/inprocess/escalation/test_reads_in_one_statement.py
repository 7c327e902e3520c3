"""A consumed event's reads and writes folded into as few statements as they allow (real
PostgreSQL): the board's change row takes its ticket's queue in the statement that writes
it, the report reads the obligation's row and the queue in one, a deadline is written to
the queue row and the ticket's deadline row in one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest

from tests.fixtures.statements import statements_sent, waiting_for_a_lock
from tests.unit.escalation.factories import IN_TIER2
from tidekit.events.envelope import Envelope
from tidekit.events.sla import ClockMet
from tidekit.messaging.uow import UnitOfWork
from tidemark_escalation.board import projection
from tidemark_escalation.reports import record_obligation

from .conftest import Escalation, StartEscalation, new_tid
from .test_queues import classified, started

pytestmark = pytest.mark.integration
LATER = IN_TIER2 + timedelta(hours=3)


async def queued(start_escalation: StartEscalation) -> tuple[Escalation, str, str]:
    """A fresh escalation app and a ticket it queued: (app, tid, queue)."""
    esc = await start_escalation(IN_TIER2)
    tid = new_tid()
    await esc.deliver(classified(tid))
    queue = await esc.pool.fetchval("SELECT queue FROM queue_entries WHERE tid = $1", tid)
    assert queue is not None
    return esc, tid, queue


async def sent_by(
    esc: Escalation, work: Callable[[asyncpg.Connection], Awaitable[None]]
) -> list[str]:
    """The statements `work` sends in a transaction of its own."""
    async with esc.pool.acquire() as conn, conn.transaction(), statements_sent(conn) as sent:
        await work(conn)
    return sent


async def test_a_change_row_takes_the_queue_in_its_own_statement(
    start_escalation: StartEscalation,
) -> None:
    esc, tid, queue = await queued(start_escalation)
    early = new_tid()
    await esc.deliver(started(early, 1, IN_TIER2 + timedelta(hours=2)))  # not queued yet

    statements = await sent_by(
        esc, lambda conn: projection.on_event(conn, started(tid, 1, LATER), esc.clock.now())
    )
    # the board row's read and write, then the change row with its queue: no read of its own
    assert not [q for q in statements if q.lstrip().startswith("SELECT queue")], statements
    assert len(statements) == 3, statements

    rows = await esc.pool.fetch(
        "SELECT tid, kind, queue FROM board_changes WHERE tid = ANY($1) ORDER BY id",
        [tid, early],
    )
    assert [tuple(r) for r in rows] == [
        (tid, "ticket.queued", queue),
        (early, "sla.clock_started", None),
        (tid, "sla.clock_started", queue),
    ]


async def test_the_report_reads_its_row_and_the_queue_in_one_statement(
    start_escalation: StartEscalation,
) -> None:
    esc, tid, queue = await queued(start_escalation)

    async def new_then_known(conn: asyncpg.Connection) -> None:
        # a repeated start has nothing to write: one read for each
        await record_obligation(started(tid, 1, LATER), conn)
        await record_obligation(started(tid, 1, LATER), conn)

    statements = await sent_by(esc, new_then_known)
    reads = [q for q in statements if q.lstrip().startswith("SELECT")]
    assert len(reads) == 2 and len(statements) == 3, statements
    row = await esc.pool.fetchrow(
        "SELECT queue, deadline FROM report_obligations WHERE obligation_id = $1", f"{tid}/1"
    )
    assert (row["queue"], row["deadline"]) == (queue, LATER)


async def test_a_deadline_goes_to_both_of_its_rows_in_one_statement(
    start_escalation: StartEscalation,
) -> None:
    esc, tid, _ = await queued(start_escalation)
    service = esc.app.state.escalation
    met = ClockMet(tid=tid, obligation_id=f"{tid}/1", met_at=IN_TIER2, deadline=LATER,
                   elapsed_seconds=60)  # fmt: skip
    for event, deadline in ((started(tid, 1, LATER), LATER), (met, None)):
        statements = await sent_by(esc, lambda conn, e=event: service._learn_deadline(conn, tid, e))
        assert len(statements) == 2, statements  # the deadline row's read, one write
        shown = await esc.pool.fetchval("SELECT deadline FROM queue_entries WHERE tid = $1", tid)
        kept = await esc.pool.fetchval("SELECT deadline FROM ticket_deadlines WHERE tid = $1", tid)
        assert (shown, kept) == (deadline, deadline)


async def test_a_consumed_events_ticket_lock_is_taken_by_its_batchs_claim(
    start_escalation: StartEscalation,
) -> None:
    """The ticket's lock (one writer per ticket) comes with the consumer batch's inbox
    claim, not as a statement per event: held elsewhere, it is the claim that waits."""
    esc = await start_escalation(IN_TIER2)
    tid = new_tid()
    holder = await asyncpg.connect(esc.settings.database_url)
    await holder.execute("SELECT pg_advisory_lock(hashtext($1))", f"escalation:{tid}")
    delivering = asyncio.create_task(esc.deliver(classified(tid)))
    try:
        waiting = await waiting_for_a_lock(holder, "advisory")  # the consumer, for the ticket
        assert "INSERT INTO inbox" in waiting, waiting
    finally:
        await holder.execute("SELECT pg_advisory_unlock(hashtext($1))", f"escalation:{tid}")
        await asyncio.wait_for(delivering, 10)
        await holder.close()
    assert await esc.pool.fetchval("SELECT queue FROM queue_entries WHERE tid = $1", tid)


async def test_a_handler_takes_the_ticket_lock_only_when_its_batch_did_not(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    runtime = esc.consumer.runtime

    async def locks_sent(held: bool) -> list[str]:
        """The lock statements a classified ticket's handler sends, its lock held or not."""
        event = classified(new_tid())
        on_event = runtime.handlers.handler_for(event)

        async def consume(conn: asyncpg.Connection) -> None:
            uow = UnitOfWork(conn, runtime.store, cause=Envelope.wrap(event, source="t/test"))
            uow.held_locks = frozenset({f"escalation:{event.stream_id()}"} if held else ())
            await on_event(event, uow)
            await uow.flush()

        sent = await sent_by(esc, consume)
        return [q for q in sent if "pg_advisory_xact_lock(hashtext(" in q]

    assert len(await locks_sent(held=False)) == 1
    assert await locks_sent(held=True) == []
