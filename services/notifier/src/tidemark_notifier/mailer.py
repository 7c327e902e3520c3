"""Outbound e-mail over real SMTP (aiosmtplib).

One SMTP connection is kept open across messages (connecting per message costs more than
sending), one message at a time on it; any failure drops it, and the next message
connects afresh. SMTP 4xx, refused or dropped connections and timeouts are temporary;
5xx answers are permanent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from .outcome import Outcome
from .settings import NotifierSettings


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
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Message-ID"] = message_id  # stable across retries: receivers drop a duplicate
    msg["Date"] = formatdate(usegmt=True)
    # RFC 3834: automatic mail; replies to customers are "auto-replied" so loops stop.
    msg["Auto-Submitted"] = "auto-generated" if staff else "auto-replied"
    msg["X-Tidemark-TID"] = tid
    for name in ("In-Reply-To", "References"):
        if headers.get(name):
            msg[name] = headers[name]
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class Mailer:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def deliver(self, message: EmailMessage) -> Outcome:
        try:
            await self.send(message)
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

    async def send(self, message: EmailMessage) -> None:
        async with self._lock:
            client = await self._connected()
            try:
                await client.send_message(message)
            except BaseException:
                await self.close()
                raise

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
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
        self._client = client
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
