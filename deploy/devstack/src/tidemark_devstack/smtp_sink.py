"""The local outbound SMTP sink: aiosmtpd stores every message as a .eml file in a maildir."""

from __future__ import annotations

import email
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class _Refusal:
    """Scripted refusal: answer `reply` to mail for `recipient`, `remaining` more times."""

    recipient: str
    remaining: int | None  # None: for ever
    reply: str


class _MaildirHandler:
    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self.rules: list[_Refusal] = []
        self.refused: list[tuple[str, str]] = []  # (recipient, reply), in order
        self._lock = threading.Lock()
        # Fault tests: awaited at the end of DATA, before the message is stored and accepted
        # (what happens while the server holds a message the client has not heard back on).
        self.before_accept: Callable[[], Awaitable[None]] | None = None
        # Called with each recipient the sink accepts (RCPT TO), in the sink's thread.
        self.on_recipient: Callable[[str], None] | None = None

    def _refusal(self, rcpt_tos: list[str]) -> str | None:
        with self._lock:
            for rule in self.rules:
                if rule.recipient in (r.lower() for r in rcpt_tos) and rule.remaining != 0:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    self.refused.append((rule.recipient, rule.reply))
                    return rule.reply
        return None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if self.on_recipient is not None:
            self.on_recipient(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refusal = self._refusal(list(envelope.rcpt_tos))
        if refusal is not None:
            return refusal
        if self.before_accept is not None:
            await self.before_accept()
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        rcpts = ", ".join(envelope.rcpt_tos)
        head = f"X-Sink-Mail-From: {envelope.mail_from}\r\nX-Sink-Rcpt-To: {rcpts}\r\n"
        name = f"{time.time_ns()}.{uuid.uuid4().hex[:12]}.eml"
        tmp = self.mail_dir / "tmp" / name
        tmp.write_bytes(head.encode() + content)
        os.replace(tmp, self.mail_dir / "new" / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def read_messages(mail_dir: Path) -> list[EmailMessage]:
    """Every stored message in arrival order, parsed with the modern e-mail policy."""
    files = sorted((mail_dir / "new").glob("*.eml"))
    return [_parse(path.read_bytes()) for path in files]


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


class SmtpSink:
    """aiosmtpd in a background thread; `messages()` and `wait_for()` read what it stored."""

    def __init__(self, mail_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.mail_dir = mail_dir
        self.host = host
        self.port = port
        for sub in ("tmp", "new", "cur"):
            (mail_dir / sub).mkdir(parents=True, exist_ok=True)
        self._handler = _MaildirHandler(mail_dir)
        self._controller = Controller(
            self._handler,
            hostname=host,
            port=port,
            enable_SMTPUTF8=True,
            data_size_limit=64 * 1024 * 1024,
            ready_timeout=10.0,
        )
        self._started = False

    def start(self) -> SmtpSink:
        if not self._started:
            self._controller.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._controller.stop()
            self._started = False

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.mail_dir)

    def refuse(
        self, recipient: str, times: int | None = None, reply: str = "451 4.3.0 Try again later"
    ) -> None:
        """Answer `reply` at end of DATA to mail for `recipient`, `times` times (None: always);
        then accept it again. For retry tests: a real server's temporary or permanent no."""
        with self._handler._lock:
            self._handler.rules.append(_Refusal(recipient.lower(), times, reply))

    def before_accept(self, hook: Callable[[], Awaitable[None]] | None) -> None:
        """Await `hook` at the end of each DATA, before accepting (None: no more). It runs in
        the sink's own thread and event loop: it must open its own connections."""
        self._handler.before_accept = hook

    def on_recipient(self, hook: Callable[[str], None] | None) -> None:
        """Call `hook` with each recipient accepted (RCPT TO), before the message's DATA
        (None: no more). It runs in the sink's own thread."""
        self._handler.on_recipient = hook

    def refused(self, recipient: str | None = None) -> list[str]:
        """The replies given so far by scripted refusals (for `recipient`, or all)."""
        with self._handler._lock:
            wanted = recipient.lower() if recipient else None
            return [r for rc, r in self._handler.refused if wanted in (None, rc)]

    def clear(self) -> None:
        for path in (self.mail_dir / "new").glob("*.eml"):
            path.unlink(missing_ok=True)

    def wait_for(
        self,
        predicate: Callable[[EmailMessage], bool] = lambda _m: True,
        timeout: float = 30.0,
        interval: float = 0.1,
    ) -> EmailMessage:
        """The first stored message matching `predicate`; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in self.messages()][-10:]
                raise TimeoutError(
                    f"no matching mail in {self.mail_dir} after {timeout}s; last subjects: "
                    f"{subjects}"
                )
            time.sleep(interval)
