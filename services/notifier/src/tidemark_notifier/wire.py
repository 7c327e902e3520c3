"""An e-mail with ASCII addresses, rendered straight to the bytes that go on the wire.

What the email package's compat32 classes built and flattened before (text/plain, or
multipart/alternative with a text/html part; UTF-8 bodies in quoted-printable; the same
headers in the same order), without its policy machinery: building and flattening a
message was 18-22 % of the notifier's samples (0.30 ms of CPU for an acknowledgement; this
takes 0.02 ms), a tenth of it the bodies' pure-Python quoted-printable, the rest the
classes' parameter handling, the boundary search and the header folding. Here the bodies
go through `binascii.b2a_qp` (C), the part headers are constants, the From header is
rendered once per `mail_from` (by the email package, as before), and each other header is
one line, folded at spaces when it is long (RFC 5322: unfolding gives back the value
exactly), or RFC 2047 encoded words (UTF-8, base64) when it is not printable ASCII.
The boundary holds "=_", which quoted-printable never writes.
"""

from __future__ import annotations

import binascii
import os
import re
from base64 import b64encode
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache

CRLF = b"\r\n"
# Flattened with the line ends it has on the wire, so SIZE declares its exact length.
ON_THE_WIRE = compat32.clone(linesep="\r\n")
_QP = b"Content-Transfer-Encoding: quoted-printable\r\n"
_TEXT_PART = b'MIME-Version: 1.0\r\nContent-Type: text/%s; charset="utf-8"\r\n' + _QP + CRLF
_ONE_PART = b'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n' + _QP
_FOLD_AT = re.compile(r"(?<=\S)(?= )")  # before a space that ends a word
_LINE = 78  # RFC 5322: a line SHOULD be at most 78 characters (MUST at most 998)
_ENCODED_LINE = 76  # RFC 2047: a line holding an encoded word is at most 76


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A message as rendered: its envelope addresses and its bytes (CRLF line ends)."""

    sender: str
    recipient: str
    data: bytes

    def as_bytes(self) -> bytes:
        return self.data


def render(
    *,
    mail_from: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    tid: str,
    references: list[tuple[str, str]],
    auto_submitted: str,
) -> WireMessage:
    """The message's bytes; `recipient` and the address in `mail_from` are ASCII."""
    sender, from_header = _from(mail_from)
    headers = [
        from_header,
        header("To", recipient),
        header("Subject", subject),
        header("Message-ID", message_id),
        header("Date", formatdate(usegmt=True)),
        header("Auto-Submitted", auto_submitted),
        header("X-Tidemark-TID", tid),
        *(header(name, value) for name, value in references),
    ]
    if html:
        boundary = b"=_" + os.urandom(12).hex().encode()
        delimiter = b"--" + boundary
        data = b"".join((
            b'Content-Type: multipart/alternative;\r\n boundary="%s"\r\n' % boundary,
            b"MIME-Version: 1.0\r\n", *headers, CRLF,
            delimiter, CRLF, _TEXT_PART % b"plain", quoted_printable(text), CRLF,
            delimiter, CRLF, _TEXT_PART % b"html", quoted_printable(html), CRLF,
            delimiter, b"--", CRLF,
        ))  # fmt: skip
    else:
        data = b"".join((_ONE_PART, *headers, CRLF, quoted_printable(text)))
    return WireMessage(sender, recipient, data)


def quoted_printable(body: str) -> bytes:
    """UTF-8 in quoted-printable, CRLF line ends (a lone CR or LF is a line end too)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").encode()
    return binascii.b2a_qp(lines, istext=True).replace(b"\n", CRLF)


def header(name: str, value: str) -> bytes:
    """One header with its CRLF: as written if it is printable ASCII (folded at spaces
    when long), else RFC 2047 encoded words."""
    line = f"{name}: {value}"
    if value.isascii() and value.isprintable() and "=?" not in value and value[:1] != " ":
        if len(line) <= _LINE:
            return line.encode() + CRLF
        folded = _fold(line)
        if folded is not None:
            return folded
    return _encoded_words(name, value)


def _fold(line: str) -> bytes | None:
    """`line` folded before spaces into lines of at most 78 where it can be; None when a
    word leaves a line over 998."""
    lines: list[str] = []
    current = ""
    for piece in _FOLD_AT.split(line):
        if current and len(current) + len(piece) > _LINE:
            lines.append(current)
            current = piece
        else:
            current += piece
    lines.append(current)
    if max(map(len, lines)) > 998:
        return None
    return "\r\n".join(lines).encode() + CRLF


def _encoded_words(name: str, value: str) -> bytes:
    """`value` as UTF-8 base64 encoded words, each on a line of at most 76 characters;
    a character's bytes are never split between two words."""
    words: list[bytes] = []
    chunk = bytearray()
    budget = _word_budget(len(name) + 2)
    for char in value:
        encoded = char.encode()
        if chunk and len(chunk) + len(encoded) > budget:
            words.append(b"=?utf-8?b?" + b64encode(chunk) + b"?=")
            chunk = bytearray()
            budget = _word_budget(1)
        chunk += encoded
    words.append(b"=?utf-8?b?" + b64encode(chunk) + b"?=")
    return name.encode() + b": " + b"\r\n ".join(words) + CRLF


def _word_budget(prefix: int) -> int:
    """Bytes of text one encoded word carries after `prefix` characters of its line."""
    return (_ENCODED_LINE - prefix - len("=?utf-8?b??=")) // 4 * 3


@lru_cache(maxsize=16)
def _from(mail_from: str) -> tuple[str, bytes]:
    """The envelope sender and the From header, rendered by the email package once per
    setting (a display name beyond ASCII is RFC 2047-encoded by `formataddr`)."""
    msg = Message()
    msg["From"] = formataddr(parseaddr(mail_from), charset="utf-8")
    rendered = msg.as_bytes(policy=ON_THE_WIRE)
    return parseaddr(msg["From"])[1], rendered.removesuffix(CRLF)
