"""The notifier's SMTP connection pool, against a real aiosmtpd server: messages go out over
several connections at once, each connection carries several messages, and every message
is accepted exactly once."""

from __future__ import annotations

import asyncio
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tidemark_devstack.common import free_port
from tidemark_notifier.mailer import Mailer, build_message
from tidemark_notifier.settings import NotifierSettings

POOL = 3


def _message(recipient: str, message_id: str) -> EmailMessage:
    return build_message(
        mail_from="desk@example.com",
        recipient=recipient,
        subject="s",
        text="hello",
        html=None,
        message_id=message_id,
        tid="TID-1",
        headers={},
        staff=False,
    )


class _CountingHandler:
    """Accepts mail, noting which connection carried each message and how many DATA
    commands were in progress at once. DATA waits (bounded) until `POOL` are in progress,
    so concurrency is seen on a positive signal rather than by timing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_progress = 0
        self.most_at_once = 0
        self.by_connection: dict[Any, list[str]] = {}
        self.all_in = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.in_progress += 1
            self.most_at_once = max(self.most_at_once, self.in_progress)
            if self.in_progress >= POOL:
                self.all_in.set()
        for _ in range(200):  # up to 2 s for the others to arrive; then go on anyway
            if self.all_in.is_set():
                break
            await asyncio.sleep(0.01)
        content = envelope.original_content or envelope.content
        text = content.decode() if isinstance(content, bytes) else content
        message_id = next(
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.lower().startswith("message-id:")
        )
        with self.lock:
            self.in_progress -= 1
            self.by_connection.setdefault(session.peer, []).append(message_id)
        return "250 accepted"


async def test_messages_go_out_over_a_small_pool_of_reused_connections() -> None:
    handler = _CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10.0)
    controller.start()
    mailer = Mailer(NotifierSettings(smtp_port=port, smtp_connections=POOL))
    try:
        messages = [
            _message(f"user{n}@example.com", f"<m{n}@tidemark.test>") for n in range(4 * POOL)
        ]
        outcomes = await asyncio.gather(*(mailer.deliver(m) for m in messages))
    finally:
        await mailer.close()
        controller.stop()

    assert all(o.delivered for o in outcomes)
    carried = [mid for mids in handler.by_connection.values() for mid in mids]
    assert sorted(carried) == sorted(f"<m{n}@tidemark.test>" for n in range(4 * POOL))
    assert handler.most_at_once == POOL  # sent concurrently, never above the pool's size
    assert len(handler.by_connection) == POOL  # each connection reused for several messages


async def test_a_refused_message_does_not_disturb_the_others() -> None:
    """A 5xx for one message closes only its connection; the rest are delivered."""

    class Refusing(_CountingHandler):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("nobody@"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    handler = Refusing()
    handler.all_in.set()  # no waiting for concurrency here
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10.0)
    controller.start()
    mailer = Mailer(NotifierSettings(smtp_port=port, smtp_connections=POOL))
    recipients = ["a@example.com", "nobody@example.com", "b@example.com", "c@example.com"]
    try:
        outcomes = await asyncio.gather(
            *(mailer.deliver(_message(r, f"<{r}>")) for r in recipients)
        )
    finally:
        await mailer.close()
        controller.stop()
    assert [o.delivered for o in outcomes] == [True, False, True, True]
    assert not outcomes[1].retry  # 550: permanent


class _WithoutEsmtp(SMTP):
    """A server that knows HELO only (no ESMTP): EHLO is answered 502."""

    async def smtp_EHLO(self, hostname: str) -> None:
        await self.push("502 5.5.1 EHLO not implemented")


class _HeloOnly(Controller):
    def factory(self) -> SMTP:
        return _WithoutEsmtp(self.handler)


class _Storing:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 accepted"


async def test_a_server_without_esmtp_gets_the_message_after_helo() -> None:
    """The envelope is sent by hand (MAIL FROM, RCPT TO, then DATA after the previous
    record): when EHLO is refused it falls back to HELO, as aiosmtplib's sendmail does."""
    handler = _Storing()
    port = free_port()
    controller = _HeloOnly(handler, hostname="127.0.0.1", port=port, ready_timeout=10.0)
    controller.start()
    mailer = Mailer(NotifierSettings(smtp_port=port))
    try:
        outcome = await mailer.deliver(_message("ada@example.com", "<helo-1@example.com>"))
    finally:
        await mailer.close()
        controller.stop()
    assert outcome.delivered, outcome.error
    assert handler.received == [("desk@example.com", ["ada@example.com"])]
