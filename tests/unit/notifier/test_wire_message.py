"""The e-mail rendered straight to bytes (`tidemark_notifier.wire`) reads back, with the
stdlib parser, as the message the email package's compat32 classes built before it
(tests/unit/notifier/compat32_reference.py): the same headers in the same order, the
same MIME structure, the same decoded text; and every line within RFC 5322's limits."""

from __future__ import annotations

import email
import email.policy
import re
import string
from base64 import b64decode
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from tidemark_notifier.mailer import build_message
from tidemark_notifier.wire import WireMessage, header

from .compat32_reference import reference_bytes

ANY_TEXT = st.characters(blacklist_categories=("Cs",))
PRINTABLE_ASCII = st.sampled_from(string.ascii_letters + string.digits + string.punctuation + " ")
# Subjects and header values in any script, and long printable ASCII that must be folded.
SUBJECTS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=200)
ASCII_SUBJECTS = st.text(PRINTABLE_ASCII, min_size=1, max_size=300)
BODIES = st.text(ANY_TEXT, max_size=3000) | st.text(PRINTABLE_ASCII | st.just("\n"), max_size=900)
MESSAGE_IDS = st.from_regex(r"<[a-z0-9.]{1,30}@[a-z0-9.-]{1,20}>", fullmatch=True)
ADDRESSES = st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True)
ENCODED_WORD = re.compile(rb"=\?utf-8\?b\?([^?]*)\?=")
NAMES = st.text(PRINTABLE_ASCII, max_size=60)  # beyond ASCII, the SMTPUTF8 path is taken


def read(raw: bytes, header_line: int = 998) -> EmailMessage:
    """`raw` as a receiver reads it, after checking its line ends and lengths."""
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines), "CRLF line ends"
    assert max(map(len, lines)) <= 998  # RFC 5322's hard limit
    head = lines[: lines.index(b"")]
    assert max(map(len, head)) <= header_line
    if header_line < 998:  # RFC 2047: a line holding an encoded word is at most 76
        assert all(len(line) <= 76 for line in head if b"=?" in line)
        for word in ENCODED_WORD.findall(b"".join(head)):
            b64decode(word).decode()  # each word whole characters (RFC 2047, section 5)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage) and not parsed.defects
    return parsed


def structure(msg: EmailMessage) -> list[tuple[Any, ...]]:
    """Each part's content type, parameters (less the boundary), headers and text."""
    parts = []
    for part in msg.walk():
        params = [(k, v) for k, v in part["Content-Type"].params.items() if k != "boundary"]
        headers = [k for k in part.keys() if part is not msg]
        content = None if part.is_multipart() else part.get_content()
        cte = part.get("Content-Transfer-Encoding")
        parts.append((part.get_content_type(), params, cte, headers, content))
    return parts


@given(
    name=NAMES,
    recipient=ADDRESSES,
    subject=SUBJECTS | ASCII_SUBJECTS,
    text=BODIES,
    html=st.none() | BODIES,
    message_id=MESSAGE_IDS,
    references=st.lists(MESSAGE_IDS, max_size=12),
    staff=st.booleans(),
)
@example(name="", recipient="a@b.example", subject=" lead", text="", html=None,
         message_id="<m@x>", references=[], staff=False)  # fmt: skip
@example(name="Tidemark Support", recipient="ada@example.com", subject="a  b\u00e9" * 40,
         text="\r\n.\n\r x =", html="\t\n", message_id="<m@x>", references=["<r@x>"] * 12,
         staff=True)  # fmt: skip
@example(name="x", recipient="a@b.example", subject="\U0001f600\u00e9" * 30, text="\U0001f600",
         html=None, message_id="<m@x>", references=[], staff=False)  # fmt: skip
def test_rendered_bytes_read_as_the_compat32_message(
    name: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    references: list[str],
    staff: bool,
) -> None:
    fields: dict[str, Any] = {
        "mail_from": formataddr((name, "support@tidemark.invalid")),
        "recipient": recipient,
        "subject": subject,
        "text": text,
        "html": html,
        "message_id": message_id,
        "tid": "TID-000042",
        "headers": {"In-Reply-To": references[-1], "References": " ".join(references)}
        if references
        else {},
        "staff": staff,
    }
    rendered = build_message(**fields)
    assert isinstance(rendered, WireMessage)
    assert (rendered.sender, rendered.recipient) == ("support@tidemark.invalid", recipient)
    # RFC 5322's advice for the headers' lines, which compat32 did not always follow
    # (an encoded word went over it); the ids here are short enough for it.
    new, old = read(rendered.data, header_line=78), read(reference_bytes(**fields))

    assert new.keys() == old.keys()
    for key in new.keys():
        if key not in ("Subject", "Date", "Content-Type"):
            assert str(new[key]) == str(old[key]), key
    assert str(new["Subject"]) == subject  # exactly: the old folding kept the words only
    assert str(old["Subject"]).split() == subject.split()
    assert abs((new["Date"].datetime - old["Date"].datetime).total_seconds()) < 60
    assert new["Date"].datetime.utcoffset().total_seconds() == 0
    assert structure(new) == structure(old)
    plain = new.get_body(("plain",))
    assert plain is not None
    written = text.replace("\r\n", "\n").replace("\r", "\n")
    assert plain.get_content().replace("\r\n", "\n") == written


@given(value=st.text(ANY_TEXT, max_size=300), name=st.sampled_from(["Subject", "X-Tidemark-TID"]))
def test_any_header_value_reads_back_exactly(value: str, name: str) -> None:
    """Control characters, leading spaces, "=?" and words longer than a line included:
    such a value goes in encoded words, and none can end the header early."""
    raw = header(name, value) + b"\r\n"
    assert raw.count(b"\r\n") == raw.count(b"\n")  # no bare line end: no injected header
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert list(parsed.keys()) == [name]
    if value.strip(" \t") == value:  # a receiver's parser strips the value's outer spaces
        assert str(parsed[name]) == value
