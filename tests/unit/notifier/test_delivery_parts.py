"""DSN parsing, webhook signatures, backoff, and the e-mail as it goes on the wire."""

from __future__ import annotations

import email
import email.policy
import random
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidemark_notifier.bounces import NotADsn, parse_dsn, sample_dsn
from tidemark_notifier.mailer import build_message
from tidemark_notifier.settlement import gives_up, retry_delay
from tidemark_notifier.webhooks import sign, verify

MID = "<3f1c@tidemark.invalid>"


def test_postfix_style_dsn_names_our_message_and_why() -> None:
    bounce = parse_dsn(sample_dsn(MID, "ada@example.com"))
    assert bounce.message_id == MID and bounce.permanent
    assert bounce.recipient == "ada@example.com" and bounce.status == "5.1.1"
    assert "User unknown" in (bounce.diagnostic or "")
    assert bounce.reason().startswith("failed; status 5.1.1; smtp; 550 5.1.1")


def test_dsn_with_the_whole_returned_message() -> None:
    raw = sample_dsn(MID, "ada@example.com").replace(b"text/rfc822-headers", b"message/rfc822")
    assert parse_dsn(raw).message_id == MID


def test_delayed_dsn_is_not_a_bounce() -> None:
    assert not parse_dsn(sample_dsn(MID, "ada@example.com", action="delayed")).permanent


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"From: a@b\r\nSubject: hello\r\n\r\nplain mail", "multipart/report"),
        (sample_dsn(MID, "a@b").replace(b"message/delivery-status", b"text/plain"), "delivery"),
        (sample_dsn(MID, "a@b").replace(f"Message-ID: {MID}".encode(), b"X-No: id"), "Message-ID"),
        (sample_dsn(MID, "a@b").replace(b"Action: failed", b"X-Action: failed"), "Action"),
    ],
)
def test_what_is_not_a_readable_dsn_says_why(raw: bytes, why: str) -> None:
    with pytest.raises(NotADsn, match=why):
        parse_dsn(raw)


@given(st.binary(max_size=200), st.text(min_size=1, max_size=40))
def test_signature_verifies_only_the_same_body_and_secret(body: bytes, secret: str) -> None:
    now = int(time.time())
    signature = sign(secret, now, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(secret, str(now), body, signature)
    assert not verify(secret + "x", str(now), body, signature)
    assert not verify(secret, str(now), body + b"x", signature)
    assert not verify(secret, str(now + 1), body, signature)


def test_stale_timestamp_is_refused() -> None:
    old = int(time.time()) - 3600
    assert not verify("s", str(old), b"{}", sign("s", old, b"{}"))


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rnd = random.Random(7)
    delays = [retry_delay(n, 1.0, 60.0, rnd) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(2 ** (n - 1), 60.0)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays), "jitter spreads the retries"


def test_give_up_counts_from_the_first_failure_not_from_when_owed() -> None:
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # The first failure never gives up, however long the message waited in a backlog.
    assert not gives_up(None, t0, 60.0)
    assert not gives_up(t0, t0 + timedelta(seconds=59.9), 60.0)
    assert gives_up(t0, t0 + timedelta(seconds=60), 60.0)
    assert gives_up(t0, t0 + timedelta(hours=5), 60.0)


def on_the_wire(**fields: Any) -> EmailMessage:
    """build_message's result as the bytes sent (CRLF), read back as a receiver does."""
    defaults: dict[str, Any] = {
        "mail_from": "Support <support@tidemark.invalid>",
        "recipient": "ada@example.com",
        "subject": "Re: [TID-1] Checkout",
        "text": "plain body\n",
        "html": "<p>html body</p>",
        "message_id": MID,
        "tid": "TID-1",
        "headers": {},
        "staff": False,
    }
    raw = build_message(**{**defaults, **fields}).as_bytes()
    assert max(len(line) for line in raw.splitlines()) <= 998  # RFC 5322's line limit
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mail_on_the_wire_has_both_parts_stable_id_and_thread() -> None:
    msg = on_the_wire(headers={"In-Reply-To": "<m2@x>", "References": "<a1@t> <m2@x>"})
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == MID and msg["In-Reply-To"] == "<m2@x>"
    assert msg["References"] == "<a1@t> <m2@x>" and msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Tidemark-TID"] == "TID-1" and msg["Date"] is not None


def test_a_text_only_mail_for_staff_is_one_part_auto_generated() -> None:
    msg = on_the_wire(html=None, staff=True)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().replace("\r\n", "\n") == "plain body\n"  # CRLF on the wire
    assert msg["Auto-Submitted"] == "auto-generated"


@given(
    name=st.text(
        st.characters(whitelist_categories=("L", "N"), whitelist_characters=" .-'"), max_size=30
    ),
    subject=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=120),
    body=st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000),
)
def test_any_text_arrives_as_written(name: str, subject: str, body: str) -> None:
    """Names, subjects and bodies in any script, with long lines: encoded on the wire
    (RFC 2047 headers, quoted-printable bodies) and decoded back to what was written."""
    body = body.replace("\r", "")  # text bodies travel with CRLF line ends: \r is not text
    msg = on_the_wire(mail_from=formataddr((name, "support@tidemark.invalid")), subject=subject,
                      text=body, html=f"<p>{body}</p>")  # fmt: skip
    assert msg["Subject"].split() == subject.split()  # folding keeps the words, not spacing
    assert msg["From"].addresses[0].addr_spec == "support@tidemark.invalid"
    assert msg["From"].addresses[0].display_name.split() == name.split()
    plain = msg.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == body


def test_an_address_beyond_ascii_goes_as_an_international_message() -> None:
    msg = build_message(
        mail_from="Support <support@tidemark.invalid>",
        recipient="jürgen@例え.jp",
        subject="[TID-1] Grüße",
        text="body\n",
        html=None,
        message_id=MID,
        tid="TID-1",
        headers={},
        staff=False,
    )
    assert isinstance(msg, EmailMessage)  # the mailer sends it with SMTPUTF8
    assert msg["To"] == "jürgen@例え.jp" and msg["Subject"] == "[TID-1] Grüße"
