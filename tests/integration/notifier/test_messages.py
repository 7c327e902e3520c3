"""Each message kind over real Kafka, PostgreSQL, SMTP and HTTP, exactly once."""

from __future__ import annotations

import asyncio
import json
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.kafka_reader import SeenRecord, read_topics
from tests.fixtures.kafka_progress import until_caught_up
from tests.unit.notifier import samples as s
from tidemark_notifier.webhooks import verify

from .conftest import ALERT_SECRET, CHAT_SECRET, Notifier, new_tid, topic
from .harness import Publisher, poll_notifications

pytestmark = pytest.mark.integration


async def mails_for(notifier: Notifier, tid: str, to: str, count: int = 1) -> list[EmailMessage]:
    def find() -> list[EmailMessage]:
        notifier.sink.wait_for(
            lambda _m: len(_matching(notifier.sink.messages(), tid, to)) >= count, timeout=120
        )
        return _matching(notifier.sink.messages(), tid, to)

    return await asyncio.to_thread(find)


def _matching(messages: list[EmailMessage], tid: str, to: str) -> list[EmailMessage]:
    return [m for m in messages if m["X-Tidemark-TID"] == tid and str(m["To"]) == to]


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


async def acknowledged(publisher: Publisher, tid: str, email: str, channel: str = "email") -> None:
    """The submission comes last: when it arrives, its classification and clock are already
    known, so the acknowledgement is owed at once and complete (service level, deadline)."""
    for event in (s.classified(tid), s.clock_started(tid), s.submitted(tid, email, channel)):
        await publisher.publish(event)


async def all_handled(notifier: Notifier, kafka_bootstrap: str) -> None:
    """Until the notifier has handled every record published so far: then every message
    they owe is a row in its database (owed in the consumer's transaction, before the
    offset commit), so the rows are final and a missing duplicate is really missing."""
    reads = [topic(s) for s in ("intake", "classifier", "sla-timer", "escalation")]
    await until_caught_up(kafka_bootstrap, notifier.group, reads)


async def all_sent(notifier: Notifier, tid: str) -> list[dict[str, Any]]:
    """The ticket's rows once each is sent: a row is marked sent only after the SMTP server
    took its mail, so the sink then holds every mail the rows stand for."""
    return await poll_notifications(
        notifier, tid, lambda r: bool(r) and all(x["state"] == "sent" for x in r)
    )


def ours(records: list[SeenRecord], row: dict[str, Any]) -> list[SeenRecord]:
    """Records about this notifier's row (another notifier may serve the same ticket)."""
    return [
        r for r in records if json.loads(r.value).get("notification_id") == row["notification_id"]
    ]


async def test_acknowledgement_by_mail_with_local_deadline_and_notification_sent(
    notifier: Notifier, publisher: Publisher, kafka_bootstrap: str
) -> None:
    tid, ada = new_tid(), "ada@example.de"
    await acknowledged(publisher, tid, ada)
    [mail] = await mails_for(notifier, tid, ada)
    assert str(mail["Subject"]) == f"[{tid}] We received your request: Checkout answers 500"
    assert mail.get_content_type() == "multipart/alternative"
    text = text_of(mail)
    assert "Service level: commercial" in text
    assert "respond by 2026-11-28 15:00 UTC (2026-11-28 16:00 Europe/Berlin, your time)" in text
    assert f"keep [{tid}] in the subject of every later message" in text
    assert "respond by <strong>2026-11-28 15:00 UTC</strong>" in html_of(mail)
    rows = await poll_notifications(notifier, tid, lambda r: r and r[0]["state"] == "sent")
    assert [(r["kind"], r["channel"], r["recipient"], r["attempts"]) for r in rows] == [
        ("acknowledgement", "email", ada, 1)
    ]
    assert mail["Message-ID"] == rows[0]["message_id"]
    records = await asyncio.to_thread(read_topics, kafka_bootstrap, [topic("notifier")])
    sent = [r for r in ours(records, rows[0]) if r.type == "notification.sent"]
    assert len(sent) == 1 and "traceparent" in sent[0].headers
    assert json.loads(sent[0].value)["message_id"] == rows[0]["message_id"]


async def test_redelivered_and_re_emitted_events_send_nothing_twice(
    notifier: Notifier, publisher: Publisher, kafka_bootstrap: str
) -> None:
    tid, bob = new_tid(), "bob@example.com"
    envelopes = [
        (await publisher.publish(s.classified(tid)), "classifier"),
        (await publisher.publish(s.clock_started(tid)), "sla-timer"),
        (await publisher.publish(s.submitted(tid, bob)), "intake"),
    ]
    await mails_for(notifier, tid, bob)
    for envelope, service in envelopes:  # the same records again: Kafka redelivery
        await publisher.send(envelope, service)
    await publisher.publish(s.clock_started(tid))  # the same fact under a new event id
    await publisher.publish(s.staff_replied(tid, "r-1"))
    await mails_for(notifier, tid, bob, count=2)  # the reply came after all of that
    # Not a pause "long enough" for a duplicate: wait until every record above is handled.
    await all_handled(notifier, kafka_bootstrap)
    rows = await all_sent(notifier, tid)
    assert sorted(r["kind"] for r in rows) == ["acknowledgement", "staff_reply"]
    subjects = sorted(str(m["Subject"]) for m in _matching(notifier.sink.messages(), tid, bob))
    assert subjects == [
        f"Re: [{tid}] Checkout answers 500",
        f"[{tid}] We received your request: Checkout answers 500",
    ]


async def test_chat_acknowledgement_is_a_signed_webhook_besides_the_mail(
    notifier: Notifier, publisher: Publisher
) -> None:
    tid, cleo = new_tid(), "cleo@example.com"
    await acknowledged(publisher, tid, cleo, channel="chat")
    hits = await asyncio.to_thread(
        notifier.receiver.wait_for, lambda h: h.path == "/chat" and h.json()["tid"] == tid
    )
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
    await mails_for(notifier, tid, cleo)
    rows = await poll_notifications(
        notifier, tid, lambda r: len(r) == 2 and all(x["state"] == "sent" for x in r)
    )
    assert sorted((r["channel"], r["recipient"]) for r in rows) == [
        ("email", cleo),
        ("webhook", "webhook:channel:chat"),
    ]
    assert hit.headers["x-tidemark-notification-id"] in {r["notification_id"] for r in rows}


async def test_staff_reply_is_threaded_and_internal_note_is_not_sent(
    notifier: Notifier, publisher: Publisher, kafka_bootstrap: str
) -> None:
    tid, dan = new_tid(), "dan@example.com"
    await acknowledged(publisher, tid, dan)
    [ack] = await mails_for(notifier, tid, dan)
    await publisher.publish(s.message_added(tid, "<q1@mail.example.com>", dan))
    await publisher.publish(s.staff_replied(tid, "note-1", visibility="internal"))
    await publisher.publish(s.staff_replied(tid, "r-1"))
    mails = await mails_for(notifier, tid, dan, count=2)
    reply = mails[-1]
    assert str(reply["Subject"]) == f"Re: [{tid}] Checkout answers 500"
    assert reply["In-Reply-To"] == "<q1@mail.example.com>"
    assert str(reply["References"]).split() == [ack["Message-ID"], "<q1@mail.example.com>"]
    assert "Please clear the cache and try again." in text_of(reply)
    await all_handled(notifier, kafka_bootstrap)  # the note too: no row, no mail for it
    rows = await all_sent(notifier, tid)
    assert sorted(r["kind"] for r in rows if r["recipient"] == dan) == [
        "acknowledgement",
        "staff_reply",
    ]
    assert len(_matching(notifier.sink.messages(), tid, dan)) == 2


async def test_status_messages_tell_the_customer_what_changed(
    notifier: Notifier, publisher: Publisher
) -> None:
    tid, eve = new_tid(), "eve@example.com"
    await publisher.publish(s.submitted(tid, eve))
    await publisher.publish(s.coupon_refused(tid))
    await publisher.publish(s.resolved(tid))
    await publisher.publish(s.credentials_destroyed(tid, eve))
    await publisher.publish(s.closed(tid, "out_of_scope"))
    wanted = ("VIP", "resolved", "passwords", "closed")

    def all_four() -> dict[str, str]:
        def found(_m: EmailMessage) -> bool:
            got = [str(m["Subject"]) for m in _matching(notifier.sink.messages(), tid, eve)]
            return all(any(w in g for g in got) for w in wanted)

        notifier.sink.wait_for(found, timeout=120)
        return {
            str(m["Subject"]): text_of(m) for m in _matching(notifier.sink.messages(), tid, eve)
        }

    by_subject = await asyncio.to_thread(all_four)
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
    await publisher.publish(s.classified(expired_tid, "commercial", "expired"))
    await publisher.publish(s.submitted(expired_tid, fay))
    [expired] = await mails_for(notifier, expired_tid, fay)
    text = text_of(expired)
    assert "How to renew" in text and "https://shop.tidemark.invalid/renew" in text
    assert "no response time applies" in text and "LIC-1" in text


async def test_staff_alerts_reach_the_tickets_queue_by_mail_and_webhook(
    notifier: Notifier, publisher: Publisher
) -> None:
    tid = new_tid()  # no submission: alerts need only the queue (and no other service acts)
    await publisher.publish(s.queued(tid, "tier1"))
    await publisher.publish(s.warning(tid))
    [t1_warning] = await mails_for(notifier, tid, "tier1@desk.example")
    assert "SLA warning (tier1)" in str(t1_warning["Subject"])
    assert t1_warning["Auto-Submitted"] == "auto-generated"

    await publisher.publish(s.escalated(tid, "tier2"))
    await publisher.publish(s.breached(tid))
    mails = await mails_for(notifier, tid, "tier2@desk.example", count=2)
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert any("Escalated to tier2" in x for x in subjects)
    assert any("SLA BREACHED (tier2)" in x for x in subjects)
    hits = await asyncio.to_thread(
        notifier.receiver.wait_for,
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid and
        h.json()["type"] == "sla_breached",
    )  # fmt: skip
    assert verify(ALERT_SECRET, hits[0].headers["x-tidemark-timestamp"], hits[0].body,
                  hits[0].headers["x-tidemark-signature"])  # fmt: skip
    assert hits[0].json()["data"]["queue"] == "tier2"
    types = {h.json()["type"] for h in notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid)}  # fmt: skip
    assert types == {"escalated", "sla_breached"}  # tier1's warning had no webhook
