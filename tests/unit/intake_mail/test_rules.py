"""Pure mail decisions: loops, threading, attachments, duplicates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.fixtures.images import bmp
from tidekit.events.intake import MessageAdded, StatusChanged, TicketReopened, TicketSubmitted
from tidemark_intake.mail import rules as mail_rules
from tidemark_intake.mail.parser import InboundFile, InboundMail
from tidemark_intake.mail.rules import Append, NewTicket, ThreadTarget
from tidemark_intake.tickets.attachments import AttachmentRefused
from tidemark_intake.tickets.lifecycle import TicketState

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MAIL = InboundMail(
    sender="ada@example.com",
    sender_name="Ada",
    subject="Re: [TID-1042] Checkout fails",
    tid="TID-1042",
    body="Still failing.",
    quoted="> We are looking into it.",
    message_id="<r-1@example.com>",
    in_reply_to="<ack@tidemark.invalid>",
    auto_reply=False,
    attachments=(),
)
TARGET = ThreadTarget(TicketState("TID-1042", "open", 3), "Ada@Example.com", "LIC-1")


def test_loop_reasons() -> None:
    assert mail_rules.loop_reason(MAIL, "tidemark.invalid") is None
    auto = replace(MAIL, auto_reply=True, auto_reply_reason="Precedence: bulk")
    assert "Precedence: bulk" in (mail_rules.loop_reason(auto, "tidemark.invalid") or "")
    ours = replace(MAIL, message_id="<9f0c@Tidemark.Invalid>")
    assert "our own" in (mail_rules.loop_reason(ours, "tidemark.invalid") or "")
    # a reply TO our acknowledgement (In-Reply-To ours) is a person writing back
    assert mail_rules.loop_reason(MAIL, "example.org") is None


def test_requester_appends_whatever_the_case_of_the_address() -> None:
    assert mail_rules.route(MAIL, TARGET, sender_registered=False) == Append("TID-1042")


def test_registered_address_of_the_license_appends() -> None:
    colleague = replace(MAIL, sender="bob@example.com")
    assert mail_rules.route(colleague, TARGET, sender_registered=True) == Append("TID-1042")


def test_stranger_or_unknown_ticket_gets_a_new_ticket_with_the_same_reason() -> None:
    stranger = replace(MAIL, sender="eve@example.net")
    refused = mail_rules.route(stranger, TARGET, sender_registered=False)
    unknown = mail_rules.route(MAIL, None, sender_registered=False)
    assert isinstance(refused, NewTicket) and refused.not_appended_reason
    assert refused == unknown  # no hint about which TIDs exist


def test_registered_means_nothing_without_a_license() -> None:
    no_license = replace(TARGET, license_key=None)
    stranger = replace(MAIL, sender="eve@example.net")
    assert isinstance(mail_rules.route(stranger, no_license, sender_registered=True), NewTicket)


def test_closed_ticket_is_not_appended_to() -> None:
    closed = replace(TARGET, state=TicketState("TID-1042", "closed", 9))
    route = mail_rules.route(MAIL, closed, sender_registered=False)
    assert isinstance(route, NewTicket) and "closed" in (route.not_appended_reason or "")


def test_no_tid_is_a_plain_new_ticket() -> None:
    assert mail_rules.route(replace(MAIL, tid=None), None, False) == NewTicket()


def test_append_keeps_quote_and_ids_and_reopens_a_resolved_ticket() -> None:
    resolved = TicketState("TID-1042", "resolved", 7)
    events = mail_rules.decide_append(resolved, MAIL, [], "m-9", NOW)
    assert [type(e) for e in events] == [TicketReopened, MessageAdded]
    added = events[1]
    assert isinstance(added, MessageAdded) and added.email is not None
    assert added.body == "Still failing." and added.email.quoted == MAIL.quoted
    assert added.email.message_id == "<r-1@example.com>" and added.via == "email"


def test_reply_while_waiting_on_customer_goes_back_to_open() -> None:
    events = mail_rules.decide_append(
        TicketState("TID-1", "waiting_on_customer", 4), MAIL, [], "m", NOW
    )
    assert [type(e) for e in events] == [MessageAdded, StatusChanged]


def test_new_ticket_records_the_refused_thread() -> None:
    (event,) = mail_rules.decide_new_ticket(
        "TID-2000", MAIL, [], "LIC-1", mail_rules.NOT_YOURS, NOW
    )
    assert isinstance(event, TicketSubmitted) and event.channel == "email"
    assert event.email is not None and event.email.referenced_tid == "TID-1042"
    assert event.email.not_appended_reason == mail_rules.NOT_YOURS
    assert event.license_key == "LIC-1" and event.requester.email == "ada@example.com"


def test_attachments_by_content() -> None:
    png = InboundFile("photo.txt", b"\x89PNG\r\n\x1a\n....")
    (checked,) = mail_rules.check_files([png], 100)
    assert checked.media_type == "image/png"
    with pytest.raises(AttachmentRefused, match=r"screen\.png: BMP .* ZIP"):
        mail_rules.check_files([InboundFile("screen.png", bmp())], 100)
    with pytest.raises(AttachmentRefused, match=r"big\.pdf: larger"):
        mail_rules.check_files([InboundFile("big.pdf", b"%PDF-" + b"0" * 200)], 100)
    with pytest.raises(AttachmentRefused, match="allowed"):
        mail_rules.check_files([InboundFile("a.exe", b"MZ\x90\x00\x03\x00\xff\xfe")], 100)


def test_dedupe_key_is_sender_and_message_id_or_the_bytes() -> None:
    assert mail_rules.dedupe_key(MAIL, b"x") == mail_rules.dedupe_key(MAIL, b"y")
    other = replace(MAIL, sender="eve@example.net")
    assert mail_rules.dedupe_key(other, b"x") != mail_rules.dedupe_key(MAIL, b"x")
    anonymous = replace(MAIL, message_id=None)
    assert mail_rules.dedupe_key(anonymous, b"x") != mail_rules.dedupe_key(anonymous, b"y")
