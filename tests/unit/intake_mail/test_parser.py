"""The inbound mail parser on broken and hostile input: refused with a reason, never a crash."""

from __future__ import annotations

import base64
import time
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidemark_intake.mail.parser import MalformedMail, parse, split_quoted

GOOD = (
    b"From: Ada <ada@example.com>\r\nTo: support@example.com\r\nSubject: Checkout fails\r\n"
    b"Message-ID: <m-1@example.com>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEvery checkout fails.\r\n"
    b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="log.pdf"\r\n\r\n'
    + base64.b64encode(b"%PDF-1.4 trace")
    + b"\r\n--b--\r\n"
)


def _mail(body: str = "hello", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "ada@example.com"
    msg["Subject"] = "question"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def test_the_good_message_parses_whole() -> None:
    mail = parse(GOOD)
    assert mail.sender == "ada@example.com" and mail.body == "Every checkout fails."
    assert [(f.filename, f.content) for f in mail.attachments] == [("log.pdf", b"%PDF-1.4 trace")]


MALFORMED = {
    "truncated multipart": GOOD[: GOOD.index(b"--b\r\nContent-Type: application/pdf") + 60],
    "multipart without boundary": (
        b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nhi\r\n--x--\r\n"
    ),
    "bad base64 body": (
        b"From: a@example.com\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@===\r\n"
    ),
    "bad base64 attachment": GOOD.replace(base64.b64encode(b"%PDF-1.4 trace"), b"JVBERi0x*&^abc"),
    "unknown charset": (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=klingon\r\n\r\nhi"
    ),
    "text not in its charset": (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe\xfa bad"
    ),
    "binary garbage": bytes(range(256)) * 40,
    "no sender": b"Subject: hi\r\n\r\nbody",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_mime_is_refused_with_a_reason(case: str) -> None:
    with pytest.raises(MalformedMail) as refused:
        parse(MALFORMED[case])
    assert str(refused.value)  # a reason the sender can read


def test_a_10_mb_header_is_refused_before_parsing_and_quickly() -> None:
    folded = b"\r\n ".join([b"x" * 900] * 11_000)  # ~10 MB of folded header lines
    raw = b"From: a@example.com\r\nX-Huge: " + folded + b"\r\nSubject: hi\r\n\r\nbody"
    started = time.monotonic()
    with pytest.raises(MalformedMail, match="header section is larger"):
        parse(raw)
    assert time.monotonic() - started < 2.0  # the email package alone takes ~30 s on this


def test_undeclared_8bit_utf8_text_is_read_as_utf8() -> None:
    raw = "From: a@example.com\r\nSubject: x\r\n\r\nGrüße aus Köln".encode()
    assert parse(raw).body == "Grüße aus Köln"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied; owner-email=a@example.com"}, "Auto-Submitted"),
        ({"Auto_Submitted": "auto-generated"}, "Auto-Submitted"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"X_Tidemark_TID": "TID-1000"}, "X-Tidemark-TID"),
    ],
)
def test_automatic_mail_is_marked_with_why(headers: dict[str, str], reason: str) -> None:
    mail = parse(_mail(**headers))
    assert mail.auto_reply and mail.auto_reply_reason and reason in mail.auto_reply_reason


def test_auto_submitted_no_is_a_person() -> None:
    assert not parse(_mail(Auto_Submitted="no", Precedence="first-class")).auto_reply


def test_quoted_text_is_kept_apart() -> None:
    mail = parse(_mail("Still broken.\n\n> On Monday you wrote:\n> try again\n"))
    assert mail.body == "Still broken." and mail.quoted == "> On Monday you wrote:\n> try again"


def test_forwarded_message_attachment_travels_as_its_bytes() -> None:
    inner = EmailMessage()
    inner["From"] = "shop@example.com"
    inner["Subject"] = "Order failed"
    inner.set_content("error 500")
    outer = EmailMessage()
    outer["From"] = "ada@example.com"
    outer["Subject"] = "see below"
    outer.set_content("forwarding")
    outer.add_attachment(inner)
    (file,) = parse(outer.as_bytes()).attachments
    assert b"Order failed" in file.content and b"error 500" in file.content


# --- properties ---------------------------------------------------------------------------

header_text = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")), max_size=80
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=header_text,
    name=header_text,
    body=st.text(
        st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")) | st.just("\n"), max_size=500
    ),
    attachment=st.binary(max_size=300),
    cut=st.integers(min_value=0, max_value=4000),
    flip=st.integers(min_value=0, max_value=4000),
)
def test_real_mail_cut_or_damaged_anywhere_parses_or_is_refused(
    subject: str, name: str, body: str, attachment: bytes, cut: int, flip: int
) -> None:
    msg = EmailMessage()
    msg["From"] = "ada@example.com"
    msg["Subject"] = subject
    msg["X-Name"] = name
    msg.set_content(body)
    msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="f")
    raw = bytearray(msg.as_bytes())
    whole = parse(bytes(raw))  # undamaged: always readable, body and file intact
    assert (whole.body, whole.quoted) == split_quoted(body)
    assert whole.attachments[0].content == attachment
    if raw:
        raw[flip % len(raw)] ^= 0x5A
    damaged = bytes(raw[: max(cut, 1)])
    try:
        mail = parse(damaged)
    except MalformedMail:
        return
    assert "@" in mail.sender and mail.subject


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_after_a_sender_parse_or_are_refused(tail: bytes) -> None:
    try:
        parse(b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n" + tail)
    except MalformedMail:
        pass
