"""Retries, give-up, permanent refusals and bounces, against the real sink and receiver."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.e2e.kafka_reader import for_ticket, read_topics
from tests.unit.notifier import samples as s
from tidemark_notifier.bounces import sample_dsn

from .conftest import Notifier, new_tid, topic
from .harness import Publisher, poll_notifications
from .test_messages import acknowledged, mails_for, ours

pytestmark = pytest.mark.integration


async def test_sink_refuses_451_twice_then_accepts(
    notifier: Notifier, publisher: Publisher
) -> None:
    tid, hal = new_tid(), "hal@example.com"
    notifier.sink.refuse(hal, times=2)
    await acknowledged(publisher, tid, hal)
    [mail] = await mails_for(notifier, tid, hal)
    rows = await poll_notifications(notifier, tid, lambda r: r and r[0]["state"] == "sent")
    assert rows[0]["attempts"] == 3
    assert notifier.sink.refused(hal) == ["451 4.3.0 Try again later"] * 2
    assert mail["Message-ID"] == rows[0]["message_id"]  # the same id on every attempt


async def test_never_accepted_gives_up_with_notification_failed(
    notifier: Notifier, publisher: Publisher, kafka_bootstrap: str
) -> None:
    tid, ivy = new_tid(), "ivy@example.com"
    notifier.sink.refuse(ivy)  # for ever
    await acknowledged(publisher, tid, ivy)
    rows = await poll_notifications(notifier, tid, lambda r: r and r[0]["state"] == "failed")
    assert rows[0]["attempts"] >= 3 and "451" in rows[0]["last_error"]
    assert len(notifier.sink.refused(ivy)) == rows[0]["attempts"]
    records = await asyncio.to_thread(read_topics, kafka_bootstrap, [topic("notifier")])
    mine = ours(records, rows[0])
    assert [r.type for r in mine] == ["notification.failed"]
    failed = json.loads(mine[0].value)
    assert failed["reason"].startswith("gave up after") and "451" in failed["reason"]
    assert failed["attempts"] == rows[0]["attempts"] and failed["recipient"] == ivy


async def test_permanent_refusal_fails_at_once(notifier: Notifier, publisher: Publisher) -> None:
    tid, jon = new_tid(), "jon@example.com"
    notifier.sink.refuse(jon, reply="550 5.1.1 No such user")
    await acknowledged(publisher, tid, jon)
    rows = await poll_notifications(notifier, tid, lambda r: r and r[0]["state"] == "failed")
    assert rows[0]["attempts"] == 1 and rows[0]["last_error"].startswith("SMTP 550")


async def test_webhook_5xx_is_retried_until_accepted(
    notifier: Notifier, publisher: Publisher
) -> None:
    tid = new_tid()
    notifier.receiver.fail("/alerts/tier2", [503, 502])
    await publisher.publish(s.escalated(tid, "tier2"))
    rows = await poll_notifications(
        notifier,
        tid,
        lambda r: any(x["channel"] == "webhook" and x["state"] == "sent" for x in r),
    )
    hook = next(x for x in rows if x["channel"] == "webhook")
    assert hook["attempts"] == 3
    hits = notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid
    )
    assert len(hits) == 3
    assert len({h.headers["x-tidemark-notification-id"] for h in hits}) == 1


async def test_webhook_timeout_is_retried(notifier: Notifier, publisher: Publisher) -> None:
    tid = new_tid()
    notifier.receiver.fail("/alerts/tier2", [0])  # answers after the 1 s timeout
    await publisher.publish(s.escalated(tid, "tier2"))
    rows = await poll_notifications(
        notifier,
        tid,
        lambda r: any(x["channel"] == "webhook" and x["state"] == "sent" for x in r),
    )
    hook = next(x for x in rows if x["channel"] == "webhook")
    assert hook["attempts"] == 2 and hook["last_error"] is None
    hits = notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid
    )
    assert len(hits) == 2


async def test_dsn_for_our_message_marks_it_bounced_once(
    notifier: Notifier, publisher: Publisher, kafka_bootstrap: str
) -> None:
    tid, kim = new_tid(), "kim@example.com"
    await acknowledged(publisher, tid, kim)
    rows = await poll_notifications(notifier, tid, lambda r: r and r[0]["state"] == "sent")
    dsn = sample_dsn(rows[0]["message_id"], kim)
    auth = {"X-Api-Key": notifier.gateway_key, "Content-Type": "message/rfc822"}
    async with notifier.client() as client:
        assert (await client.post("/v1/bounces", content=dsn)).status_code == 401
        as_staff = {**auth, "X-Api-Key": notifier.staff_key}  # only the mail gateway posts DSNs
        assert (await client.post("/v1/bounces", content=dsn, headers=as_staff)).status_code == 403
        first = await client.post("/v1/bounces", content=dsn, headers=auth)
        assert first.status_code == 200, first.text
        assert first.json()["state"] == "bounced" and first.json()["tid"] == tid
        again = await client.post("/v1/bounces", content=dsn, headers=auth)
        assert again.status_code == 200 and again.json()["state"] == "bounced"
        garbage = await client.post("/v1/bounces", content=b"hello", headers=auth)
        assert garbage.status_code == 422
        assert garbage.headers["content-type"].startswith("application/problem+json")
        stranger = sample_dsn("<not-ours@elsewhere.example>", kim)
        assert (await client.post("/v1/bounces", content=stranger, headers=auth)).status_code == 404
        delayed = sample_dsn(rows[0]["message_id"], kim, action="delayed")
        assert (await client.post("/v1/bounces", content=delayed, headers=auth)).json()[
            "action"
        ] == "delayed"
    rows = await poll_notifications(notifier, tid, lambda r: r[0]["state"] == "bounced")
    assert "550 5.1.1" in rows[0]["bounce_reason"] and rows[0]["bounced_at"]

    def bounced_events() -> list[dict[str, object]]:
        records = for_ticket(read_topics(kafka_bootstrap, [topic("notifier")]), tid)
        return [json.loads(r.value) for r in records if r.type == "notification.bounced"]

    for _ in range(50):
        events = await asyncio.to_thread(bounced_events)
        if events:
            break
        await asyncio.sleep(0.1)
    assert len(events) == 1 and events[0]["message_id"] == rows[0]["message_id"]
