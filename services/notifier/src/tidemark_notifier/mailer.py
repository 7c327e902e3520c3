"""Outbound e-mail over real SMTP (aiosmtplib).

A small pool of SMTP connections (`smtp_connections`, default 4) is kept open across
messages: connecting per message costs more than sending, and one connection carries one
message at a time, so a pool lets the sender's batch go out concurrently. A connection that
fails is dropped (not returned to the pool) and the next message connects afresh. SMTP 4xx,
refused or dropped connections and timeouts are temporary; 5xx answers are permanent.

Concurrency does not change what is owed: each message is one locked `notifications` row
(sender.py), so a message for one cause and recipient is sent by one task, once.

A message goes in two steps: the envelope (MAIL FROM, RCPT TO), then, once `before_data`
has returned, the message itself (DATA). The sender records the previous message's outcome
in that gap, so the envelope's round trips and the record's overlap, while no message is
handed over (DATA) before the one before it is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from .outcome import Outcome
from .settings import NotifierSettings
from .wire import WireMessage, render

BeforeData = Callable[[], Awaitable[None]]
Outgoing = WireMessage | EmailMessage


async def _at_once() -> None:
    """No wait between a message's envelope and its data."""


class _NotSent(Exception):
    """`before_data` failed: carries its error past the SMTP error handling (the message was
    not handed over, and its outcome is not the server's)."""


def build_message(
    *,
    mail_from: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    tid: str,
    headers: Mapping[str, str],
    staff: bool,
) -> Outgoing:
    """The message as it goes on the wire.

    Rendered straight to bytes (`wire.render`): the email package's classes, even compat32,
    spent more CPU building and flattening an acknowledgement than anything else the
    notifier does per message (docs/performance.md). An address that is not ASCII
    (SMTPUTF8) takes the modern class, which aiosmtplib sends with SMTPUTF8."""
    # RFC 3834: automatic mail; replies to customers are "auto-replied" so loops stop.
    auto_submitted = "auto-generated" if staff else "auto-replied"
    references = [(n, headers[n]) for n in ("In-Reply-To", "References") if headers.get(n)]
    if recipient.isascii() and mail_from.isascii():
        return render(
            mail_from=mail_from,
            recipient=recipient,
            subject=subject,
            text=text,
            html=html,
            message_id=message_id,  # stable across retries: receivers drop a duplicate
            tid=tid,
            references=references,
            auto_submitted=auto_submitted,
        )
    msg = _international(mail_from, recipient, subject, text, html)
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(usegmt=True)
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Tidemark-TID"] = tid
    for name, value in references:
        msg[name] = value
    return msg


def _international(mail_from: str, recipient: str, subject: str, text: str,
                   html: str | None) -> EmailMessage:  # fmt: skip
    """The modern class, for addresses beyond ASCII (aiosmtplib sends it with SMTPUTF8)."""
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = recipient
    msg["Subject"] = subject
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class Mailer:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []  # connected and free, most recent last
        self._slots = asyncio.Semaphore(settings.smtp_connections)

    async def deliver(self, message: Outgoing, before_data: BeforeData = _at_once) -> Outcome:
        """Send `message`; the server's answer as an Outcome. `before_data` is awaited after
        the server accepted the envelope, before DATA; an error it raises is raised here,
        with the message not sent and its connection closed."""

        async def guarded() -> None:
            try:
                await before_data()
            except Exception as exc:
                raise _NotSent from exc

        try:
            await self.send(message, guarded)
        except _NotSent as not_sent:
            raise not_sent.__cause__ from None  # type: ignore[misc]
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(code >= 500 for code in codes):
                return Outcome.permanent(f"recipient refused: {text}")
            return Outcome.temporary(f"recipient refused: {text}")
        except aiosmtplib.SMTPResponseException as exc:
            what = f"SMTP {exc.code} {exc.message}"
            return Outcome.permanent(what) if exc.code >= 500 else Outcome.temporary(what)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Outcome.temporary(f"SMTP unavailable: {type(exc).__name__}: {exc}")
        return Outcome.ok()

    async def send(self, message: Outgoing, before_data: BeforeData = _at_once) -> None:
        """Send on a free pooled connection (at most `smtp_connections` at once)."""
        async with self._slots:
            client = await self._checkout()
            try:
                if isinstance(message, EmailMessage):  # an address beyond ASCII: SMTPUTF8
                    await before_data()  # aiosmtplib sends it in one step
                    await client.send_message(message)
                else:  # the bytes as rendered
                    await _in_two_steps(client, message.sender, message.recipient,
                                        message.data, before_data)  # fmt: skip
            except BaseException:
                _close_quietly(client)  # a failed session is not reused
                raise
            self._idle.append(client)

    async def _checkout(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
            _close_quietly(client)
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        if s.smtp_username:
            password = s.smtp_password.get_secret_value() if s.smtp_password else ""
            await client.login(s.smtp_username, password)
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            _close_quietly(client)


async def _in_two_steps(
    client: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes, before_data: BeforeData
) -> None:
    """aiosmtplib's `sendmail` for one recipient, with `before_data` between the envelope and
    the data. A refusal raises what `sendmail` raises (SMTPRecipientsRefused for the
    recipient); no RSET, since a session that failed is closed, not reused."""
    if client.is_ehlo_or_helo_needed:  # the extensions (SIZE) are known after EHLO
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # a server without ESMTP, as sendmail falls back
    size = [f"SIZE={len(data)}"] if client.supports_extension("size") else []
    await client.mail(sender, options=size)
    try:
        await client.rcpt(recipient)
    except aiosmtplib.SMTPRecipientRefused as refused:
        raise aiosmtplib.SMTPRecipientsRefused([refused]) from None
    await before_data()
    await client.data(data)


def _close_quietly(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()
