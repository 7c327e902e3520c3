"""Retries, give-up, permanent refusals and bounces, in process against the real sink and
receiver; the notifier's events read from its outbox."""

from __future__ import annotations

import pytest

from tests.unit.notifier import samples as s
from tidemark_notifier.bounces import sample_dsn

from .conftest import Notifier, new_tid
from .test_messages import about, acknowledged

pytestmark = pytest.mark.integration


def settled(rows: list[dict[str, object]]) -> bool:
    return bool(rows) and all(r["state"] != "pending" for r in rows)


async def test_sink_refuses_451_twice_then_accepts(notifier: Notifier) -> None:
    tid, hal = new_tid(), "hal@example.com"
    notifier.sink.refuse(hal, times=2)
    await acknowledged(notifier, tid, hal)
    rows = await notifier.send_until(tid, settled)
    assert rows[0]["state"] == "sent" and rows[0]["attempts"] == 3
    [mail] = notifier.mails(tid, hal)
    assert notifier.sink.refused(hal) == ["451 4.3.0 Try again later"] * 2
    assert mail["Message-ID"] == rows[0]["message_id"]  # the same id on every attempt


async def test_never_accepted_gives_up_with_notification_failed(notifier: Notifier) -> None:
    tid, ivy = new_tid(), "ivy@example.com"
    notifier.sink.refuse(ivy)  # for ever
    await acknowledged(notifier, tid, ivy)
    rows = await notifier.send_until(tid, settled)
    assert rows[0]["state"] == "failed"
    assert rows[0]["attempts"] >= 3 and "451" in rows[0]["last_error"]
    assert len(notifier.sink.refused(ivy)) == rows[0]["attempts"]
    mine = about(await notifier.published(tid), rows[0])
    assert [e.type for e in mine] == ["notification.failed"]
    failed = mine[0].data
    assert failed["reason"].startswith("gave up after") and "451" in failed["reason"]
    assert failed["attempts"] == rows[0]["attempts"] and failed["recipient"] == ivy


async def test_permanent_refusal_fails_at_once(notifier: Notifier) -> None:
    tid, jon = new_tid(), "jon@example.com"
    notifier.sink.refuse(jon, reply="550 5.1.1 No such user")
    await acknowledged(notifier, tid, jon)
    rows = await notifier.send_until(tid, settled)
    assert rows[0]["state"] == "failed"
    assert rows[0]["attempts"] == 1 and rows[0]["last_error"].startswith("SMTP 550")


async def test_webhook_5xx_is_retried_until_accepted(notifier: Notifier) -> None:
    tid = new_tid()
    notifier.receiver.fail("/alerts/tier2", [503, 502])
    await notifier.deliver(s.escalated(tid, "tier2"))
    rows = await notifier.send_until(tid, settled)
    hook = next(x for x in rows if x["channel"] == "webhook")
    assert hook["state"] == "sent" and hook["attempts"] == 3
    hits = notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid
    )
    assert len(hits) == 3
    assert len({h.headers["x-tidemark-notification-id"] for h in hits}) == 1


async def test_webhook_timeout_is_retried(notifier: Notifier) -> None:
    tid = new_tid()
    notifier.receiver.fail("/alerts/tier2", [0])  # answers after the 1 s timeout
    await notifier.deliver(s.escalated(tid, "tier2"))
    rows = await notifier.send_until(tid, settled)
    hook = next(x for x in rows if x["channel"] == "webhook")
    assert hook["state"] == "sent"
    assert hook["attempts"] == 2 and hook["last_error"] is None
    hits = notifier.receiver.matching(
        lambda h: h.path == "/alerts/tier2" and h.json()["tid"] == tid
    )
    assert len(hits) == 2


async def test_dsn_for_our_message_marks_it_bounced_once(notifier: Notifier) -> None:
    tid, kim = new_tid(), "kim@example.com"
    await acknowledged(notifier, tid, kim)
    rows = await notifier.all_sent(tid)
    dsn = sample_dsn(rows[0]["message_id"], kim)
    gateway = {"X-Api-Key": notifier.keys.mail_gateway, "Content-Type": "message/rfc822"}
    http = notifier.http
    anonymous = {"X-Api-Key": "", "Content-Type": "message/rfc822"}
    assert (await http.post("/v1/bounces", content=dsn, headers=anonymous)).status_code == 401
    as_staff = {**gateway, "X-Api-Key": notifier.keys.agent}  # only the mail gateway posts DSNs
    assert (await http.post("/v1/bounces", content=dsn, headers=as_staff)).status_code == 403
    first = await http.post("/v1/bounces", content=dsn, headers=gateway)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "bounced" and first.json()["tid"] == tid
    again = await http.post("/v1/bounces", content=dsn, headers=gateway)
    assert again.status_code == 200 and again.json()["state"] == "bounced"
    garbage = await http.post("/v1/bounces", content=b"hello", headers=gateway)
    assert garbage.status_code == 422
    assert garbage.headers["content-type"].startswith("application/problem+json")
    stranger = sample_dsn("<not-ours@elsewhere.example>", kim)
    assert (await http.post("/v1/bounces", content=stranger, headers=gateway)).status_code == 404
    delayed = sample_dsn(rows[0]["message_id"], kim, action="delayed")
    answer = await http.post("/v1/bounces", content=delayed, headers=gateway)
    assert answer.json()["action"] == "delayed"
    [row] = await notifier.notifications(tid)
    assert row["state"] == "bounced"
    assert "550 5.1.1" in row["bounce_reason"] and row["bounced_at"]
    bounced = [e for e in await notifier.published(tid) if e.type == "notification.bounced"]
    assert len(bounced) == 1 and bounced[0].data["message_id"] == rows[0]["message_id"]
