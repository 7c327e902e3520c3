"""Reading delivery-status notifications (RFC 3464): which of our messages bounced, why.

Pure: standard-library e-mail parsing only. A DSN is a multipart/report with a
message/delivery-status part (per-recipient `Action`, `Status`, `Diagnostic-Code`) and
the returned message or its headers (message/rfc822 or text/rfc822-headers), whose
Message-ID names the notification.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import Message
from email.policy import default


class NotADsn(ValueError):
    """The input is not a delivery-status notification we can read."""


@dataclass(frozen=True)
class Bounce:
    message_id: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str | None
    recipient: str | None
    diagnostic: str | None

    @property
    def permanent(self) -> bool:
        """Only a failed delivery bounces; `delayed` is the remote MTA still trying."""
        return self.action == "failed"

    def reason(self) -> str:
        parts = [f"{self.action}"]
        if self.status:
            parts.append(f"status {self.status}")
        if self.diagnostic:
            parts.append(self.diagnostic)
        return "; ".join(parts)[:500]


def parse_dsn(raw: bytes) -> Bounce:
    message = email.message_from_bytes(raw, policy=default)
    if message.get_content_type() != "multipart/report":
        raise NotADsn(f"expected multipart/report, got {message.get_content_type()}")
    status_part: Message | None = None
    original_id: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            status_part = part
        elif kind in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers"):
            original_id = original_id or _message_id_of(part)
    if status_part is None:
        raise NotADsn("no message/delivery-status part")
    if not original_id:
        raise NotADsn("the returned message has no Message-ID")
    fields = _recipient_fields(status_part)
    action = (fields.get("action") or "").strip().lower()
    if not action:
        raise NotADsn("the delivery status has no Action field")
    recipient = fields.get("final-recipient") or fields.get("original-recipient")
    if recipient and ";" in recipient:
        recipient = recipient.split(";", 1)[1].strip()
    return Bounce(
        message_id=original_id,
        action=action,
        status=(fields.get("status") or "").strip() or None,
        recipient=recipient,
        diagnostic=" ".join((fields.get("diagnostic-code") or "").split()) or None,
    )


def _message_id_of(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        returned = inner[0] if isinstance(inner, list) and inner else None
        if isinstance(returned, Message) and returned["Message-ID"]:
            return str(returned["Message-ID"]).strip()
        return None
    payload = part.get_payload(decode=True)
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    headers = email.message_from_string(text, policy=default)
    return str(headers["Message-ID"]).strip() if headers["Message-ID"] else None


def _recipient_fields(part: Message) -> dict[str, str]:
    """The first per-recipient block of a message/delivery-status part, lower-case keys."""
    blocks: list[Message] = []
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser splits the status into header blocks
        blocks = [p for p in payload if isinstance(p, Message)]
    else:
        raw = payload if isinstance(payload, str) else ""
        blocks = [email.message_from_string(b, policy=default) for b in raw.split("\n\n") if b]
    for block in reversed(blocks):  # the per-message block comes first, recipients after
        if block["Action"]:
            return {k.lower(): str(v) for k, v in block.items()}
    return {}


def sample_dsn(message_id: str, recipient: str, action: str = "failed") -> bytes:
    """A DSN as Postfix writes one (for tests and the docs' example)."""
    return _SAMPLE.format(message_id=message_id, recipient=recipient, action=action).encode()


_SAMPLE = """\
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: support@tidemark.invalid
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.
I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Mon, 23 Nov 2026 09:00:00 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:
    User unknown in local recipient table

--B0UND
Content-Type: text/rfc822-headers

From: Tidemark Support <support@tidemark.invalid>
To: {recipient}
Subject: [TID-1] We received your request
Message-ID: {message_id}

--B0UND--
"""
