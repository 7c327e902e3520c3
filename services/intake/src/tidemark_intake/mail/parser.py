"""Inbound e-mail (RFC 5322) to a pure description of what arrived. No I/O.

Parsing uses the standard library's `email` package with policy=default: multipart,
encoded headers, HTML-only bodies reduced to text. Quoted earlier text is kept but
separated, and auto-replies (RFC 3834 Auto-Submitted, Precedence bulk/auto_reply/junk/list)
are recognised so they never create tickets.

Broken mail is refused with a reason (`MalformedMail`) instead of being half-read: a header
section over the limit (checked before parsing: the `email` package is slow on huge
headers), a multipart without its boundaries, base64 that does not decode, text that is
not in its declared charset (or an unknown charset), no usable From address.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from html.parser import HTMLParser
from typing import Any

TID_IN_SUBJECT = re.compile(r"\[(TID-\d+)\]")
_QUOTE_INTRO = re.compile(r"^(On .+ wrote:|-----\s*Original Message\s*-----|Am .+ schrieb .+:)$")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
# Structural damage: the message cannot be split into its parts reliably.
_STRUCTURAL_DEFECTS = (
    errors.StartBoundaryNotFoundDefect,
    errors.CloseBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
    errors.NoBoundaryInMultipartDefect,
    errors.InvalidMultipartContentTransferEncodingDefect,
)
_BASE64_DEFECTS = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)
_PRECEDENCE_LOOPS = ("bulk", "auto_reply", "junk", "list")


@functools.lru_cache(maxsize=512)
def _parsed_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


class _DefaultPolicy(EmailPolicy):
    """policy.default, remembering parsed short header values: the `email` package parses a
    part's Content-Type again on every look (over half the time of a 200 KB message)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > 1000:
            return policy.default.header_fetch_parse(name, value)
        return _parsed_header(name, value)


_POLICY = _DefaultPolicy()


class MalformedMail(ValueError):
    """The message cannot be read as RFC 5322 mail (no sender, unreadable structure)."""


@dataclass(frozen=True)
class InboundFile:
    """An attachment of an inbound mail, decoded (a forwarded message is kept whole
    as message.eml)."""

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
    auto_reply_reason: str | None = None  # which header made it an automatic message


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
    parser.close()
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


def auto_reply_reason(msg: EmailMessage) -> str | None:
    """Why this is an automatic message (RFC 3834 and common practice), or None."""
    auto = str(msg.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in _PRECEDENCE_LOOPS:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if msg.get(header) is not None:
            return f"{header} header"
    if msg.get("X-Tidemark-TID") is not None:
        return "X-Tidemark-TID header (a Tidemark notification)"
    return None


def is_auto_reply(msg: EmailMessage) -> bool:
    return auto_reply_reason(msg) is not None


def header_section_size(raw: bytes) -> int:
    end = _HEADER_END.search(raw)
    return end.start() if end else len(raw)


def _check_structure(msg: EmailMessage) -> None:
    for part in msg.walk():
        for defect in part.defects:
            if isinstance(defect, _STRUCTURAL_DEFECTS):
                raise MalformedMail(f"broken MIME structure: {type(defect).__name__}")


def _decoded(part: EmailMessage) -> bytes:
    """The part's bytes after its transfer encoding; bad base64 is refused, not guessed."""
    payload = part.get_payload(decode=True)
    for defect in part.defects:
        if isinstance(defect, _BASE64_DEFECTS):
            raise MalformedMail(f"invalid base64 in a {part.get_content_type()} part")
    return payload if isinstance(payload, bytes) else b""


def _text(part: EmailMessage) -> str:
    raw = _decoded(part)
    declared = part.get_content_charset()
    charset = declared or "us-ascii"
    try:
        return raw.decode(charset)
    except LookupError:
        raise MalformedMail(f"unknown charset {charset!r}") from None
    except UnicodeDecodeError:
        if declared is None:  # undeclared 8-bit text: UTF-8 is what senders mean today
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
        raise MalformedMail(f"the text is not valid {charset} as its charset says") from None


def _attachment(part: EmailMessage) -> InboundFile:
    name = part.get_filename() or "attachment"
    if part.get_content_maintype() == "message":  # a forwarded message travels as its bytes
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else None
        content = inner_msg.as_bytes() if isinstance(inner_msg, EmailMessage) else b""
        return InboundFile(name if part.get_filename() else "message.eml", content)
    return InboundFile(name, _decoded(part))


def parse(raw: bytes, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> InboundMail:
    if header_section_size(raw) > max_header_bytes:
        raise MalformedMail(f"the header section is larger than {max_header_bytes} bytes")
    try:
        msg = BytesParser(policy=_POLICY).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        addresses: tuple[Address, ...] = msg["From"].addresses if msg["From"] else ()
        subject = str(msg.get("Subject", "")).strip()
        message_id = str(msg["Message-ID"]).strip() if msg["Message-ID"] else None
        in_reply_to = str(msg["In-Reply-To"]).strip() if msg["In-Reply-To"] else None
        loop = auto_reply_reason(msg)
        _check_structure(msg)
        body_part = msg.get_body(preferencelist=("plain", "html"))
        parts = list(msg.iter_attachments())
    except MalformedMail:
        raise
    except Exception as exc:  # the email package raises many types on broken input
        raise MalformedMail(f"unreadable message: {type(exc).__name__}: {exc}") from None
    if not addresses or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise MalformedMail("the message has no usable From address")
    text = ""
    if isinstance(body_part, EmailMessage):
        content = _text(body_part)
        text = html_to_text(content) if body_part.get_content_subtype() == "html" else content
    body, quoted = split_quoted(text.replace("\r\n", "\n"))
    try:
        files = tuple(_attachment(p) for p in parts if isinstance(p, EmailMessage))
    except MalformedMail:
        raise
    except Exception as exc:
        raise MalformedMail(f"unreadable attachment: {type(exc).__name__}: {exc}") from None
    tid = TID_IN_SUBJECT.search(subject)
    return InboundMail(
        sender=addresses[0].addr_spec.lower(),
        sender_name=addresses[0].display_name,
        subject=subject or "(no subject)",
        tid=tid.group(1) if tid else None,
        body=body,
        quoted=quoted,
        message_id=message_id,
        in_reply_to=in_reply_to,
        auto_reply=loop is not None,
        attachments=files,
        auto_reply_reason=loop,
    )
