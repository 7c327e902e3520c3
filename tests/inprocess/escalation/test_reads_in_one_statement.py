"""A consumed event's reads and writes folded into as few statements as they allow (real
PostgreSQL): the board's change row takes its ticket's queue in the statement that writes
it, the report reads the obligation's row and the queue in one, a deadline is written to
the queue row and the ticket's deadline row in one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.escalation.factories import IN_TIER2
from tidekit.events.sla import ClockMet
from tidemark_escalation.board import projection
from tidemark_escalation.reports import record_obligation

from .conftest import StartEscalation, new_tid
from .test_queues import classified, started

pytestmark = pytest.mark.integration


async def test_a_change_row_takes_the_queue_in_its_own_statement(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    tid, early = new_tid(), new_tid()
    await esc.deliver(started(early, 1, IN_TIER2 + timedelta(hours=2)))  # not queued yet
    await esc.deliver(classified(tid))  # queued: ticket.queued
    queue = await esc.pool.fetchval("SELECT queue FROM queue_entries WHERE tid = $1", tid)
    assert queue is not None

    statements: list[str] = []
    async with esc.pool.acquire() as conn, conn.transaction():
        conn.add_query_logger(log := lambda q: statements.append(q.query))
        event = started(tid, 1, IN_TIER2 + timedelta(hours=3))
        await projection.on_event(conn, event, esc.clock.now())
        conn.remove_query_logger(log)
    # the board row's read and write, then the change row with its queue: no read of its own
    assert not [q for q in statements if q.lstrip().startswith("SELECT queue")], statements
    assert len(statements) == 3, statements

    rows = await esc.pool.fetch(
        "SELECT tid, kind, queue FROM board_changes WHERE tid = ANY($1) ORDER BY id",
        [tid, early],
    )
    assert [tuple(r) for r in rows] == [
        (early, "sla.clock_started", None),
        (tid, "ticket.queued", queue),
        (tid, "sla.clock_started", queue),
    ]


async def test_the_report_reads_its_row_and_the_queue_in_one_statement(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    tid = new_tid()
    await esc.deliver(classified(tid))
    queue = await esc.pool.fetchval("SELECT queue FROM queue_entries WHERE tid = $1", tid)
    statements: list[str] = []
    async with esc.pool.acquire() as conn, conn.transaction():
        conn.add_query_logger(log := lambda q: statements.append(q.query))
        # new, then known (a repeated start: nothing to write): one read for each
        await record_obligation(started(tid, 1, IN_TIER2 + timedelta(hours=3)), conn)
        await record_obligation(started(tid, 1, IN_TIER2 + timedelta(hours=3)), conn)
        conn.remove_query_logger(log)
    reads = [q for q in statements if q.lstrip().startswith("SELECT")]
    assert len(reads) == 2 and len(statements) == 3, statements
    row = await esc.pool.fetchrow(
        "SELECT queue, deadline FROM report_obligations WHERE obligation_id = $1", f"{tid}/1"
    )
    assert (row["queue"], row["deadline"]) == (queue, IN_TIER2 + timedelta(hours=3))


async def test_a_deadline_goes_to_both_of_its_rows_in_one_statement(
    start_escalation: StartEscalation,
) -> None:
    esc = await start_escalation(IN_TIER2)
    tid = new_tid()
    await esc.deliver(classified(tid))
    service = esc.app.state.escalation
    deadline = IN_TIER2 + timedelta(hours=3)
    met = ClockMet(
        tid=tid, obligation_id=f"{tid}/1", met_at=IN_TIER2,
        deadline=deadline, elapsed_seconds=60,
    )  # fmt: skip

    async def learn(event: object) -> tuple[list[str], tuple[object, object]]:
        statements: list[str] = []
        async with esc.pool.acquire() as conn, conn.transaction():
            conn.add_query_logger(log := lambda q: statements.append(q.query))
            await service._learn_deadline(conn, tid, event)
            conn.remove_query_logger(log)
        shown = await esc.pool.fetchval("SELECT deadline FROM queue_entries WHERE tid = $1", tid)
        kept = await esc.pool.fetchval("SELECT deadline FROM ticket_deadlines WHERE tid = $1", tid)
        return statements, (shown, kept)

    statements, rows = await learn(started(tid, 1, deadline))
    assert len(statements) == 2 and rows == (deadline, deadline), statements  # read, write
    statements, rows = await learn(met)
    assert len(statements) == 2 and rows == (None, None), statements
