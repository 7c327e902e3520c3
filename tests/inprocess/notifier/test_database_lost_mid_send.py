"""The notifier's database goes away while the SMTP server holds a message (a Postgres
restart or failover between the delivery and its record): the message is recorded once it
is back, and not sent a second time.

The chaos run found the second copy (seed 5): the sender held its row lock in the
transaction that delivered, so a lost connection rolled the claim back and the message went
again. Here, real PostgreSQL and a real SMTP sink; the sink's hook ends every session of
the notifier's database (pg_terminate_backend) while it holds the message.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.fixtures.backends import fresh_database
from tests.fixtures.statements import waiting_for_a_lock
from tests.unit.notifier.samples import classified, clock_started, submitted
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.runtime import ServiceRuntime
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_devstack.common import free_port
from tidemark_devstack.smtp_sink import SmtpSink
from tidemark_notifier.app import create_app
from tidemark_notifier.outcome import Outcome
from tidemark_notifier.sender import Sender
from tidemark_notifier.settings import NotifierSettings

pytestmark = pytest.mark.integration
IN_NOTIFIER = {"search_path": "notifier"}


@pytest.fixture
def notifier_db(_postgres: tuple[str, Any]) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_notifier_fault") as url:
        yield url


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail", free_port()) as started:
        yield started


@pytest.fixture
async def runtime(notifier_db: str, sink: SmtpSink) -> AsyncIterator[tuple[ServiceRuntime, Sender]]:
    conn = await asyncpg.connect(notifier_db, server_settings=IN_NOTIFIER)
    try:
        await apply_migrations(
            conn, "notifier", [CORE_MIGRATIONS, MigrationSet("notifier", "tidemark_notifier")]
        )
    finally:
        await conn.close()
    settings = NotifierSettings(database_url=notifier_db, smtp_port=sink.port)
    app = create_app(settings)  # no lifespan: no Kafka; the test drives the sender
    rt: ServiceRuntime = app.state.runtime
    rt.pool = await asyncpg.create_pool(
        notifier_db, min_size=1, max_size=4, server_settings=IN_NOTIFIER
    )
    yield rt, Sender(settings)
    await rt.pool.close()


async def _deliver(rt: ServiceRuntime, *events: DomainEvent) -> None:
    for event in events:
        await rt.bus.handle(event, cause=Envelope.wrap(event, source="tidemark/test"))


async def test_a_message_delivered_while_the_database_went_away_is_sent_once(
    runtime: tuple[ServiceRuntime, Sender], sink: SmtpSink, notifier_db: str
) -> None:
    rt, sender = runtime
    tid = "TID-4242"
    await _deliver(rt, submitted(tid, "ada@example.com"), classified(tid), clock_started(tid))
    database = notifier_db.rsplit("/", 1)[1].split("?", 1)[0]
    cut: list[int] = []

    async def end_every_session_of_the_notifier() -> None:
        if cut:
            return  # once: the second DATA, if any, is the duplicate this test looks for
        conn = await asyncpg.connect(notifier_db)
        try:
            ended = await conn.fetchval(
                """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE datname = $1 AND pid <> pg_backend_pid()""",
                database,
            )
        finally:
            await conn.close()
        cut.append(ended)

    sink.before_accept(end_every_session_of_the_notifier)
    async with rt.require_pool().acquire() as conn:
        owed = await conn.fetchval("SELECT count(*) FROM notifications WHERE tid = $1", tid)
    assert owed == 1

    # The sender's loop: what it would do after a lost database (it retries send_due).
    for _ in range(5):
        try:
            await sender.send_due(rt)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            continue
        async with rt.require_pool().acquire() as conn:
            state = await conn.fetchval("SELECT state FROM notifications WHERE tid = $1", tid)
        if state != "pending":
            break
    assert cut and cut[0] > 0, "the hook ended no session: the test proved nothing"

    copies = [m for m in sink.messages() if m["X-Sink-Rcpt-To"] == "ada@example.com"]
    assert len(copies) == 1, f"{len(copies)} copies of the acknowledgement reached the sink"
    async with rt.require_pool().acquire() as conn:
        row = await conn.fetchrow("SELECT state, attempts FROM notifications WHERE tid = $1", tid)
        sent = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'notification.sent' AND stream_id = $1",
            tid,
        )
    assert (row["state"], row["attempts"]) == ("sent", 1)
    assert sent == 1


async def test_an_outcome_recorded_twice_is_written_once(
    runtime: tuple[ServiceRuntime, Sender],
) -> None:
    """The record of a delivery retried after its first commit went through (the answer
    lost): the row is no longer as claimed, and the one statement that would write the
    row's new state and the event writes neither (real PostgreSQL)."""
    rt, sender = runtime
    tid = "TID-4343"
    await _deliver(rt, submitted(tid, "ada@example.com"), classified(tid), clock_started(tid))
    (row,), _ = await sender._claim(rt)
    for outcome in (Outcome.ok(), Outcome.ok(), Outcome.permanent("550 too late")):
        await sender._record_until_done(rt, row, outcome)
    async with rt.require_pool().acquire() as conn:
        settled = await conn.fetchrow(
            "SELECT state, attempts FROM notifications WHERE tid = $1", tid
        )
        events = await conn.fetch(
            """SELECT event_type FROM events
               WHERE stream_id = $1 AND event_type LIKE 'notification.%'""",
            tid,
        )
    assert (settled["state"], settled["attempts"]) == ("sent", 1)
    assert [e["event_type"] for e in events] == ["notification.sent"]


async def test_the_next_envelope_goes_out_while_a_record_waits_and_its_data_after_it(
    runtime: tuple[ServiceRuntime, Sender], sink: SmtpSink, notifier_db: str
) -> None:
    """The sender overlaps a message's record with the next message's envelope (MAIL FROM,
    RCPT TO) and hands that message over (DATA) only once the record is committed: still
    at most one message sent and not recorded. The first message's record waits here on a
    row lock the test holds (real PostgreSQL, real SMTP sink)."""
    rt, sender = runtime
    ada, bob = "ada@example.com", "bob@example.com"
    for tid, address in (("TID-5151", ada), ("TID-5252", bob)):
        await _deliver(rt, submitted(tid, address), classified(tid), clock_started(tid))
    claimed, lease_ends = await sender._claim(rt)
    assert [row["recipient"] for row in claimed] == [ada, bob]

    loop = asyncio.get_running_loop()
    envelope_of = {ada: asyncio.Event(), bob: asyncio.Event()}
    sink.on_recipient(lambda address: loop.call_soon_threadsafe(envelope_of[address].set))
    released = threading.Event()
    data_after_release: list[bool] = []  # at each DATA, in order: was the lock released?

    async def note_data() -> None:
        data_after_release.append(released.is_set())

    sink.before_accept(note_data)
    holder = await asyncpg.connect(notifier_db, server_settings=IN_NOTIFIER)
    held = holder.transaction()
    await held.start()
    await holder.execute("SELECT 1 FROM notifications WHERE recipient = $1 FOR UPDATE", ada)
    sending = asyncio.create_task(sender._send_claimed(rt, claimed, lease_ends))
    try:
        try:
            async with asyncio.timeout(10):
                await envelope_of[bob].wait()  # while ada's record cannot commit
        except TimeoutError:
            pytest.fail("bob's envelope did not go out while ada's record waited")
        await waiting_for_a_lock(holder, "transactionid")  # ada's record, for the row lock
        assert data_after_release == [False], "bob's DATA went before ada's record"
        released.set()
        await held.commit()
        assert await asyncio.wait_for(sending, 10) == 2
    finally:
        sending.cancel()
        await holder.close()
    assert data_after_release == [False, True]
    async with rt.require_pool().acquire() as conn:
        states = await conn.fetch("SELECT recipient, state FROM notifications ORDER BY created_at")
    assert [tuple(r) for r in states] == [(ada, "sent"), (bob, "sent")]
