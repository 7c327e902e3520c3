"""Each message kind, in process: the notifier's real consumer path, PostgreSQL, sender, SMTP
sink and webhook receiver; exactly once, and its notification.* events in the outbox."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from tests.unit.notifier import samples as s
from tidekit.events.envelope import Envelope
from tidemark_notifier.webhooks import verify

from .conftest import ALERT_SECRET, CHAT_SECRET, Notifier, new_tid

pytestmark = pytest.mark.integration


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


async def acknowledged(notifier: Notifier, tid: str, email: str, channel: str = "email") -> None:
    """The submission comes last: when it arrives, its classification and clock are already
    known, so the acknowledgement is owed at once and complete (service level, deadline)."""
    await notifier.deliver(
        s.classified(tid), s.clock_started(tid), s.submitted(tid, email, channel)
    )


def about(envelopes: list[Envelope], row: dict[str, Any]) -> list[Envelope]:
    """The outbox's events about one notification row."""
    return [e for e in envelopes if e.data.get("notification_id") == row["notification_id"]]


async def test_acknowledgement_by_mail_with_local_deadline_and_notification_sent(
    notifier: Notifier,
) -> None:
    tid, ada = new_tid(), "ada@example.de"
    await acknowledged(notifier, tid, ada)
    rows = await notifier.all_sent(tid)
    [mail] = notifier.mails(tid, ada)
    assert str(mail["Subject"]) == f"[{tid}] We received your request: Checkout answers 500"
    assert mail.get_content_type() == "multipart/alternative"
    text = text_of(mail)
    assert "Service level: commercial" in text
    assert "respond by 2026-11-28 15:00 UTC (2026-11-28 16:00 Europe/Berlin, your time)" in text
    assert f"keep [{tid}] in the subject of every later message" in text
    assert "respond by <strong>2026-11-28 15:00 UTC</strong>" in html_of(mail)
    assert [(r["kind"], r["channel"], r["recipient"], r["attempts"]) for r in rows] == [
        ("acknowledgement", "email", ada, 1)
    ]
    assert mail["Message-ID"] == rows[0]["message_id"]
    sent = about(await notifier.published(tid), rows[0])
    assert [e.type for e in sent] == ["notification.sent"]
    assert "traceparent" in sent[0].trace  # it continues the trace of its cause
    assert sent[0].data["message_id"] == rows[0]["message_id"]


async def test_redelivered_and_re_emitted_events_send_nothing_twice(notifier: Notifier) -> None:
    tid, bob = new_tid(), "bob@example.com"
    envelopes = await notifier.deliver(
        s.classified(tid), s.clock_started(tid), s.submitted(tid, bob)
    )
    await notifier.all_sent(tid)
    await notifier.consumer.redeliver(*envelopes)  # the same records again: Kafka redelivery
    await notifier.deliver(s.clock_started(tid))  # the same fact under a new event id
    await notifier.deliver(s.staff_replied(tid, "r-1"))
    rows = await notifier.send_until(
        tid, lambda r: len(r) >= 2 and all(x["state"] == "sent" for x in r)
    )
    assert sorted(r["kind"] for r in rows) == ["acknowledgement", "staff_reply"]
    subjects = sorted(str(m["Subject"]) for m in notifier.mails(tid, bob))
    assert subjects == [
        f"Re: [{tid}] Checkout answers 500",
        f"[{tid}] We received your request: Checkout answers 500",
    ]
    events = await notifier.published(tid)
    assert sorted(e.type for e in events) == ["notification.sent"] * 2


async def test_chat_acknowledgement_is_a_signed_webhook_besides_the_mail(
    notifier: Notifier,
) -> None:
    tid, cleo = new_tid(), "cleo@example.com"
    await acknowledged(notifier, tid, cleo, channel="chat")
    rows = await notifier.send_until(
        tid, lambda r: len(r) == 2 and all(x["state"] == "sent" for x in r)
    )
    hits = notifier.receiver.matching(lambda h: h.path == "/chat" and h.json()["tid"] == tid)
    assert len(hits) == 1
    hit = hits[0]
    assert verify(CHAT_SECRET, hit.headers["x-tidemark-timestamp"], hit.body,
                  hit.headers["x-tidemark-signature"])  # fmt: skip
    assert not verify("wrong", hit.headers["x-tidemark-timestamp"], hit.body,
                      hit.headers["x-tidemark-signature"])  # fmt: skip
    payload: dict[str, Any] = hit.json()
    assert payload["type"] == "acknowledgement" and f"[{tid}]" in payload["subject"]
    assert payload["data"]["level"] == "commercial"
    assert payload["data"]["deadline"] == "2026-11-28 15:00 UTC"
    assert f"keep [{tid}]" in payload["text"]
    assert CHAT_SECRET not in hit.body.decode()
    assert len(notifier.mails(tid, cleo)) == 1
    assert sorted((r["channel"], r["recipient"]) for r in rows) == [
        ("email", cleo),
        ("webhook", "webhook:channel:chat"),
    ]
    assert hit.headers["x-tidemark-notification-id"] in {r["notification_id"] for r in rows}


async def test_staff_reply_is_threaded_and_internal_note_is_not_sent(notifier: Notifier) -> None:
    tid, dan = new_tid(), "dan@example.com"
    await acknowledged(notifier, tid, dan)
    await notifier.all_sent(tid)
    [ack] = notifier.mails(tid, dan)
    await notifier.deliver(
        s.message_added(tid, "<q1@mail.example.com>", dan),
        s.staff_replied(tid, "note-1", visibility="internal"),
        s.staff_replied(tid, "r-1"),
    )
    # Every event is handled by now (deliver returns after the commit): the note owed no row.
    rows = await notifier.all_sent(tid)
    assert sorted(r["kind"] for r in rows if r["recipient"] == dan) == [
        "acknowledgement",
        "staff_reply",
    ]
    mails = notifier.mails(tid, dan)
    assert len(mails) == 2
    reply = next(m for m in mails if m["Message-ID"] != ack["Message-ID"])
    assert str(reply["Subject"]) == f"Re: [{tid}] Checkout answers 500"
    assert reply["In-Reply-To"] == "<q1@mail.example.com>"
    assert str(reply["References"]).split() == [ack["Message-ID"], "<q1@mail.example.com>"]
    assert "Please clear the cache and try again." in text_of(reply)


async def test_status_messages_tell_the_customer_what_changed(notifier: Notifier) -> None:
    tid, eve = new_tid(), "eve@example.com"
    await notifier.deliver(
        s.submitted(tid, eve),
        s.coupon_refused(tid),
        s.resolved(tid),
        s.credentials_destroyed(tid, eve),
        s.closed(tid, "out_of_scope"),
    )
    await notifier.all_sent(tid)
    by_subject = {str(m["Subject"]): text_of(m) for m in notifier.mails(tid, eve)}
    coupon = next(t for subj, t in by_subject.items() if "VIP" in subj)
    assert "all VIP coupons of this license year have been used" in coupon
    resolved = next(t for subj, t in by_subject.items() if "resolved" in subj)
    assert f"https://support.tidemark.invalid/tickets/{tid}/rating" in resolved
    creds = next(t for subj, t in by_subject.items() if "passwords" in subj)
    assert "please change those passwords now" in creds
    closed = next(t for subj, t in by_subject.items() if "closed" in subj)
    assert "outside the scope of our product support" in closed
    assert all(f"[{tid}]" in subj for subj in by_subject)

    expired_tid, fay = new_tid(), "fay@example.com"
    await notifier.deliver(
        s.classified(expired_tid, "commercial", "expired"), s.submitted(expired_tid, fay)
    )
    await notifier.all_sent(expired_tid)
    [expired] = notifier.mails(expired_tid, fay)
    text = text_of(expired)
    assert "How to renew" in text and "https://shop.tidemark.invalid/renew" in text
    assert "no response time applies" in text and "LIC-1" in text


async def test_staff_alerts_reach_the_tickets_queue_by_mail_and_webhook(
    notifier: Notifier,
) -> None:
    tid = new_tid()  # no submission: alerts need only the queue
    await notifier.deliver(s.queued(tid, "tier1"), s.warning(tid))
    await notifier.all_sent(tid)
    [t1_warning] = notifier.mails(tid, "tier1@desk.example")
    assert "SLA warning (tier1)" in str(t1_warning["Subject"])
    assert t1_warning["Auto-Submitted"] == "auto-generated"
    assert notifier.receiver.matching(lambda h: h.json()["tid"] == tid) == []  # no tier1 hook

    await notifier.deliver(s.escalated(tid, "tier2"), s.breached(tid))
    await notifier.all_sent(tid)
    mails = notifier.mails(tid, "tier2@desk.example")
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert len(subjects) == 2
    assert any("Escalated to tier2" in x for x in subjects)
    assert any("SLA BREACHED (tier2)" in x for x in subjects)
    hits = notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid
    )
    breach = next(h for h in hits if h.json()["type"] == "sla_breached")
    assert verify(ALERT_SECRET, breach.headers["x-tidemark-timestamp"], breach.body,
                  breach.headers["x-tidemark-signature"])  # fmt: skip
    assert breach.json()["data"]["queue"] == "tier2"
    assert sorted(h.json()["type"] for h in hits) == ["escalated", "sla_breached"]
