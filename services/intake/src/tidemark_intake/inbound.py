"""Inbound e-mail (RFC 5322) to a pure description of what arrived. No I/O.

Parsing uses the standard library's `email` package with policy=default: multipart,
encoded headers, HTML-only bodies reduced to text. Quoted earlier text is kept but
separated, and auto-replies (RFC 3834 Auto-Submitted, Precedence bulk/auto_reply/junk/list)
are recognised so they never create tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

TID_IN_SUBJECT = re.compile(r"\[(TID-\d+)\]")
_QUOTE_INTRO = re.compile(r"^(On .+ wrote:|-----\s*Original Message\s*-----|Am .+ schrieb .+:)$")


class MalformedMail(ValueError):
    """The message cannot be read as RFC 5322 mail (no sender, unreadable structure)."""


@dataclass(frozen=True)
class InboundFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class InboundMail:
    sender: str
    sender_name: str
    subject: str
    tid: str | None
    body: str
    quoted: str
    message_id: str | None
    in_reply_to: str | None
    auto_reply: bool
    attachments: tuple[InboundFile, ...]


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines()))


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted earlier text): quotes start at an intro line or a run of '>' lines."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _QUOTE_INTRO.match(stripped) or (
            stripped.startswith(">")
            and all(not rest.strip() or rest.lstrip().startswith(">") for rest in lines[i:])
        ):
            return "\n".join(lines[:i]).strip(), "\n".join(lines[i:]).strip()
    return text.strip(), ""


def is_auto_reply(msg: EmailMessage) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in ("bulk", "auto_reply", "junk", "list")
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
    )


def parse(raw: bytes) -> InboundMail:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        addresses: tuple[Address, ...] = msg["From"].addresses if msg["From"] else ()
    except Exception as exc:  # the email package raises many types on broken input
        raise MalformedMail(f"unreadable message: {type(exc).__name__}: {exc}") from None
    if not addresses or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise MalformedMail("the message has no usable From address")
    subject = str(msg.get("Subject", "")).strip()
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        try:
            content = body_part.get_content()
        except (LookupError, ValueError) as exc:  # unknown charset, bad transfer encoding
            raise MalformedMail(f"unreadable body: {exc}") from None
        text = html_to_text(content) if body_part.get_content_subtype() == "html" else content
    body, quoted = split_quoted(text)
    files = tuple(
        InboundFile(part.get_filename() or "attachment", part.get_payload(decode=True) or b"")
        for part in msg.iter_attachments()
    )
    tid = TID_IN_SUBJECT.search(subject)
    return InboundMail(
        sender=addresses[0].addr_spec.lower(),
        sender_name=addresses[0].display_name,
        subject=subject or "(no subject)",
        tid=tid.group(1) if tid else None,
        body=body,
        quoted=quoted,
        message_id=str(msg["Message-ID"]).strip() if msg["Message-ID"] else None,
        in_reply_to=str(msg["In-Reply-To"]).strip() if msg["In-Reply-To"] else None,
        auto_reply=is_auto_reply(msg),
        attachments=files,
    )
