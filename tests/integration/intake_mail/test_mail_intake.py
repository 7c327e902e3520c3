"""MailIntake against real PostgreSQL (its own schema; no Kafka needed): threading by the
requester and by addresses learned from the classifier's verdicts, loops, duplicates, and the
one-transaction write of events, projection and the inbound_mail record."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

import asyncpg
import pytest

from tests.fixtures import images
from tidekit.events import classifier as cls_events
from tidekit.events.envelope import Envelope
from tidekit.events.intake import TicketClosed, TicketResolved
from tidekit.events.notifier import NotificationSent
from tidekit.runtime import ServiceRuntime
from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_intake.mail.intake import MailIntake
from tidemark_intake.settings import IntakeSettings
from tidemark_intake.tickets import projection
from tidemark_intake.tickets.writes import TidBlocks

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Desk:
    intake: MailIntake
    pool: asyncpg.Pool

    async def events(self, tid: str) -> list[tuple[str, dict[str, object]]]:
        rows = await self.pool.fetch(
            "SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version",
            tid,
        )
        return [(r["event_type"], json.loads(r["data"])) for r in rows]

    async def classify(self, tid: str, license_key: str, entitlement: str) -> None:
        """What intake does with the classifier's ticket.classified (the real projection)."""
        event = cls_events.TicketClassified(
            tid=tid,
            level="commercial" if entitlement == "active" else "non_commercial",
            severity=None,
            category="other",
            in_scope=True,
            entitlement=entitlement,  # type: ignore[arg-type]
            license_key=license_key,
            policy_version="test",
            reasons=("test",),
            submitted_at=NOW,
            classified_at=NOW,
        )
        async with self.pool.acquire() as conn:
            await projection.foreign_row(Envelope.wrap(event, source="tidemark/test")).execute(conn)
            await projection.apply_foreign(conn, event)


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    schema = f"mail_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(
            conn, schema, [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        )
    finally:
        await conn.close()
    settings = IntakeSettings(database_url=database_url, max_attachment_bytes=1000)
    runtime = ServiceRuntime(settings, MigrationSet("intake", "tidemark_intake"))
    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": schema})
    runtime.pool = pool
    yield Desk(MailIntake(runtime, settings, TidBlocks()), pool)
    await pool.close()


def mail(sender: str, subject: str, body: str = "Checkout fails.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", f"<{uuid.uuid4().hex}@example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


async def test_reply_threading_requester_registered_and_stranger(desk: Desk) -> None:
    first = await desk.intake.receive(mail("Ada <ada@example.com>", "Checkout fails"), "smtp")
    assert first.outcome == "created" and first.tid and first.access_token
    tid = first.tid

    reply = mail(
        "ADA@example.com",
        f"Re: [{tid}] Checkout fails",
        "Still failing.\n\nOn Monday Support wrote:\n> We are on it.",
    )
    appended = await desk.intake.receive(reply, "http")
    assert (appended.outcome, appended.tid) == ("appended", tid)
    kinds = [t for t, _ in await desk.events(tid)]
    assert kinds == ["ticket.submitted", "ticket.message_added"]
    added = (await desk.events(tid))[1][1]
    assert added["body"] == "Still failing." and added["via"] == "email"
    assert added["email"]["quoted"].startswith("On Monday")  # type: ignore[index]

    # Bob is not the requester; nothing known about him yet: a new ticket, never appended.
    bob_first = await desk.intake.receive(mail("bob@example.com", f"[{tid}] me too"), "smtp")
    assert bob_first.outcome == "created" and bob_first.tid != tid
    submitted = (await desk.events(bob_first.tid or ""))[0][1]
    assert submitted["email"]["referenced_tid"] == tid  # type: ignore[index]
    assert submitted["email"]["not_appended_reason"]  # type: ignore[index]
    assert [t for t, _ in await desk.events(tid)] == kinds

    # The classifier finds Ada's ticket under LIC-7 and Bob registered on LIC-7 (his ticket
    # classified active): Bob's next mail on Ada's ticket is appended.
    await desk.pool.execute("UPDATE tickets SET license_key = 'LIC-7' WHERE tid = $1", tid)
    await desk.pool.execute(
        "UPDATE tickets SET license_key = 'LIC-7' WHERE tid = $1", bob_first.tid
    )
    await desk.classify(tid, "LIC-7", "active")
    await desk.classify(bob_first.tid or "", "LIC-7", "active")
    bob_again = await desk.intake.receive(mail("bob@example.com", f"Re: [{tid}] log"), "smtp")
    assert (bob_again.outcome, bob_again.tid) == ("appended", tid)

    # Eve's earlier ticket was classified unregistered_sender: still not allowed.
    eve = await desk.intake.receive(mail("eve@example.net", "hello"), "smtp")
    await desk.pool.execute("UPDATE tickets SET license_key = 'LIC-7' WHERE tid = $1", eve.tid)
    await desk.classify(eve.tid or "", "LIC-7", "unregistered_sender")
    eve_reply = await desk.intake.receive(mail("eve@example.net", f"[{tid}] give me"), "smtp")
    assert eve_reply.outcome == "created" and eve_reply.tid != tid

    # An unknown TID answers exactly like a forbidden one.
    ghost = await desk.intake.receive(mail("eve@example.net", "[TID-999999] hi"), "smtp")
    assert ghost.outcome == "created" and ghost.reason == eve_reply.reason

    # A new mail from Bob carries the license he was recognised under.
    bob_new = await desk.intake.receive(mail("bob@example.com", "another problem"), "smtp")
    assert (await desk.events(bob_new.tid or ""))[0][1]["license_key"] == "LIC-7"


async def test_resolved_ticket_reopens_and_closed_ticket_does_not_take_replies(desk: Desk) -> None:
    created = await desk.intake.receive(mail("ada@example.com", "Site down"), "smtp")
    tid = created.tid or ""
    async with desk.pool.acquire() as conn, conn.transaction():
        await desk.intake.runtime.store.append(
            conn, tid, 1, [TicketResolved(tid=tid, resolved_by="staff:1", resolved_at=NOW)]
        )
    reopened = await desk.intake.receive(mail("ada@example.com", f"[{tid}] again"), "smtp")
    assert reopened.outcome == "appended"
    kinds = [t for t, _ in await desk.events(tid)]
    assert kinds[-2:] == ["ticket.reopened", "ticket.message_added"]
    async with desk.pool.acquire() as conn, conn.transaction():
        await desk.intake.runtime.store.append(
            conn,
            tid,
            len(kinds),
            [TicketClosed(tid=tid, reason="duplicate", closed_by="staff:1", closed_at=NOW)],
        )
    after_close = await desk.intake.receive(mail("ada@example.com", f"[{tid}] hello?"), "smtp")
    assert after_close.outcome == "created" and "closed" in (after_close.reason or "")


async def test_same_message_id_twice_even_at_once_makes_one_ticket(desk: Desk) -> None:
    raw = mail("ada@example.com", "Checkout fails", message_id="<dup-1@example.com>")
    results = await asyncio.gather(*(desk.intake.receive(raw, "smtp") for _ in range(5)))
    created = [r for r in results if r.outcome == "created"]
    assert len(created) == 1
    assert {r.tid for r in results} == {created[0].tid}
    assert {r.outcome for r in results} == {"created", "duplicate"}
    count = await desk.pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'ticket.submitted'"
    )
    assert count == 1
    rows = await desk.pool.fetch("SELECT outcome FROM inbound_mail ORDER BY id")
    assert sorted(r["outcome"] for r in rows) == ["created"] + ["duplicate"] * 4
    # the same Message-ID from someone else is their own mail
    other = mail("bob@example.com", "Checkout fails", message_id="<dup-1@example.com>")
    assert (await desk.intake.receive(other, "smtp")).outcome == "created"


async def test_loops_never_make_tickets_and_are_recorded(desk: Desk) -> None:
    created = await desk.intake.receive(mail("ada@example.com", "Site down"), "smtp")
    tid = created.tid or ""
    sent = NotificationSent(
        tid=tid,
        notification_id="n-1",
        cause_event_id=str(uuid.uuid4()),
        kind="acknowledgement",
        channel="email",
        recipient="ada@example.com",
        message_id="<ack-77@mail.example.org>",
        attempts=1,
        sent_at=NOW,
    )
    async with desk.pool.acquire() as conn:
        await projection.foreign_row(Envelope.wrap(sent, source="tidemark/notifier")).execute(conn)
    loops = [
        mail("ada@example.com", f"Out of office: [{tid}]", Auto_Submitted="auto-replied"),
        mail("list@example.com", "Newsletter", Precedence="bulk"),
        mail("ada@example.com", f"[{tid}] forwarded", message_id="<abc@tidemark.invalid>"),
        # our acknowledgement came back whole (e.g. a forwarding loop), by its Message-ID
        mail("ada@example.com", f"[{tid}] ack", message_id="<ack-77@mail.example.org>"),
    ]
    for raw in loops:
        result = await desk.intake.receive(raw, "smtp")
        assert result.outcome == "ignored" and result.reason, result
        assert result.smtp_reply().startswith("250 ")
    assert [t for t, _ in await desk.events(tid)] == ["ticket.submitted"]
    assert await desk.pool.fetchval("SELECT count(*) FROM tickets") == 1
    ignored = await desk.pool.fetch("SELECT reason FROM inbound_mail WHERE outcome = 'ignored'")
    assert len(ignored) == 4
    # A person replying to our acknowledgement (In-Reply-To ours) is not a loop.
    reply = mail("ada@example.com", f"Re: [{tid}]", In_Reply_To="<ack-77@mail.example.org>")
    assert (await desk.intake.receive(reply, "smtp")).outcome == "appended"


async def test_refusals_are_recorded_with_the_reason_and_an_smtp_answer(desk: Desk) -> None:
    bmp = EmailMessage()
    bmp["From"] = "ada@example.com"
    bmp["Subject"] = "screenshot"
    bmp.set_content("see attached")
    bmp.add_attachment(images.bmp(), maintype="image", subtype="png", filename="s.png")
    big = EmailMessage()
    big["From"] = "ada@example.com"
    big["Subject"] = "log"
    big.set_content("log attached")
    big.add_attachment(b"x" * 5000, maintype="text", subtype="plain", filename="log.txt")
    cases = {
        "attachment": (bmp.as_bytes(), "554 5.6.0", "ZIP"),
        "attachment2": (big.as_bytes(), "554 5.6.0", "larger than the limit"),
        "malformed": (b"Subject: nobody\r\n\r\nhi", "554 5.6.0", "From address"),
    }
    for raw, code, words in cases.values():
        result = await desk.intake.receive(raw, "http")
        assert result.outcome == "refused" and words in (result.reason or "")
        assert result.smtp_reply().startswith(code)
    rows = await desk.pool.fetch("SELECT * FROM inbound_mail WHERE outcome = 'refused'")
    assert len(rows) == 3 and all(r["raw_excerpt"] and r["reason"] for r in rows)
    assert await desk.pool.fetchval("SELECT count(*) FROM events") == 0
