"""Parsing inbound mail: multipart, encoded headers, HTML-only, quotes, auto-replies."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidemark_intake.mail.parser import MalformedMail, parse, split_quoted

PLAIN = b"""From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.com>
To: support@tidemark.invalid
Subject: Re: [TID-1042] =?utf-8?q?Gr=C3=BC=C3=9Fe?= and a question
Message-ID: <abc@example.com>
Content-Type: text/plain; charset=utf-8

The site is still down.

On Mon, 23 Nov 2026 at 10:00, Support <support@tidemark.invalid> wrote:
> We are looking into it.
"""


def test_plain_reply_with_encoded_headers_and_quote() -> None:
    mail = parse(PLAIN)
    assert mail.sender == "juergen@example.com" and mail.sender_name == "Jürgen Müller"
    assert mail.tid == "TID-1042" and "Grüße" in mail.subject
    assert mail.body == "The site is still down."
    assert mail.quoted.startswith("On Mon") and "looking into it" in mail.quoted
    assert mail.message_id == "<abc@example.com>" and not mail.auto_reply


def test_html_only_multipart_with_attachment() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    raw = (
        b"From: ada@example.com\r\nSubject: Screenshot\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><style>p{}</style><p>Checkout <b>fails</b></p><p>since 9:00</p></html>\r\n"
        b'--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="s.png"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(png) + b"\r\n--b--\r\n"
    )
    mail = parse(raw)
    assert "Checkout fails" in mail.body and "since 9:00" in mail.body and "p{}" not in mail.body
    assert mail.tid is None
    assert [(f.filename, f.content) for f in mail.attachments] == [("s.png", png)]


@pytest.mark.parametrize(
    "header",
    [
        b"Auto-Submitted: auto-replied",
        b"Precedence: bulk",
        b"Precedence: auto_reply",
        b"X-Autoreply: yes",
    ],
)
def test_auto_replies_are_recognised(header: bytes) -> None:
    raw = b"From: a@example.com\r\nSubject: Out of office\r\n" + header + b"\r\n\r\nAway."
    assert parse(raw).auto_reply


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: no sender\r\n\r\nhi",
        b"From: not-an-address\r\n\r\nhi",
        b"From: a@example.com\r\nContent-Type: text/plain; charset=klingon\r\n\r\nhi",
    ],
)
def test_malformed_mail_is_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(MalformedMail):
        parse(raw)


def test_split_quoted_keeps_unquoted_text_whole() -> None:
    assert split_quoted("just text\n> not at the end\nmore") == (
        "just text\n> not at the end\nmore",
        "",
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_are_refused_never_crash(raw: bytes) -> None:
    try:
        parse(raw)
    except MalformedMail:
        pass
