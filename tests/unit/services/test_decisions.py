"""The services' pure decisions, without any I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tests.fixtures.images import bmp
from tidekit.events.classifier import TicketClassified
from tidekit.events.escalation import TicketQueued
from tidekit.events.intake import Requester, StatusChanged, TicketSubmitted
from tidekit.sla import load_policy
from tidemark_classifier.domain import License, classify, entitlement_for, support_periods
from tidemark_escalation.domain import TicketState, handle
from tidemark_intake.tickets import domain as intake
from tidemark_intake.tickets import lifecycle
from tidemark_intake.tickets.attachments import AttachmentRefused, sniff
from tidemark_notifier.domain import Routing, TicketFacts, acknowledgement
from tidemark_notifier.templates import Renderer

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
PERIODS = support_periods(load_policy())  # the shipped policy's


def lic(
    edition: str = "business",
    partner: bool = False,
    bought: date = date(2026, 3, 1),
    ends: date | None = None,
) -> License:
    return License("LIC-1", edition, "Owner", frozenset({"ada@example.com"}), partner, bought, ends)


@pytest.mark.parametrize(
    ("license_", "email", "level", "entitlement"),
    [
        (lic("business"), "ada@example.com", "commercial", "active"),
        (lic("premium"), "ada@example.com", "commercial_vip", "active"),
        (lic("ultimate"), "ADA@example.com", "commercial_vip", "active"),
        (
            lic("start", partner=True, bought=date(2010, 1, 1)),
            "ada@example.com",
            "partner",
            "active",
        ),
        (lic("demo", bought=date(2026, 11, 20)), "ada@example.com", "non_commercial", "active"),
        (lic("business"), "eve@example.com", "non_commercial", "unregistered_sender"),
        (None, "ada@example.com", "non_commercial", "unknown_license"),
        (lic("business", bought=date(2025, 11, 1)), "ada@example.com", "commercial", "expired"),
        (lic("demo", bought=date(2026, 10, 1)), "ada@example.com", "non_commercial", "expired"),
    ],
)
def test_entitlement_and_level(
    license_: License | None, email: str, level: str, entitlement: str
) -> None:
    decided = entitlement_for(email, "LIC-1", license_, NOW.date(), PERIODS)
    assert (decided.level, decided.entitlement) == (level, entitlement)
    assert decided.reasons, "every decision says why"


def test_no_license_key_is_an_unregistered_sender() -> None:
    decided = entitlement_for("ada@example.com", None, None, NOW.date(), PERIODS)
    assert (decided.level, decided.entitlement) == ("non_commercial", "unregistered_sender")


def submitted(hint: str | None = "critical") -> TicketSubmitted:
    return TicketSubmitted(
        tid="TID-1",
        channel="web",
        requester=Requester(email="ada@example.com"),
        license_key="LIC-1",
        subject="down",
        body="site down",
        severity_hint=hint,  # type: ignore[arg-type]
        submitted_at=NOW,
    )


def test_severity_hint_applies_only_to_commercial_levels() -> None:
    commercial = classify(submitted(), lic("business"), "v1", NOW, periods=PERIODS)
    assert commercial.severity == "critical" and commercial.policy_version == "v1"
    outsider = classify(submitted(), None, "v1", NOW, periods=PERIODS)
    assert outsider.severity is None
    assert any("ignored" in r for r in outsider.reasons)


def test_intake_opens_a_ticket_once_after_classification() -> None:
    state = lifecycle.evolve(lifecycle.TicketState("TID-1", "new", 0), submitted())
    opened = intake.decide_open_after_classification(state, NOW)
    assert [type(e) for e in opened] == [StatusChanged]
    state = lifecycle.evolve(state, opened[0])
    assert (state.status, state.version) == ("open", 2)
    assert intake.decide_open_after_classification(state, NOW) == []


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"GIF89a..", "image/gif"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"PK\x03\x04", "application/zip"),
        (b"Rar!\x1a\x07\x00", "application/vnd.rar"),
        (b"%PDF-1.7", "application/pdf"),
        (b"plain log line\n", "text/plain"),
    ],
)
def test_attachments_are_recognised_by_content(content: bytes, media_type: str) -> None:
    assert sniff(content) == media_type


def test_bmp_is_refused_with_a_hint_and_binary_junk_names_the_allowed_types() -> None:
    with pytest.raises(AttachmentRefused, match=r"BMP .* ZIP"):
        sniff(bmp())
    with pytest.raises(AttachmentRefused, match="allowed"):
        sniff(b"\x00\x01\x02\xfe")


def classified(urgent: bool = False) -> TicketClassified:
    return TicketClassified(
        tid="TID-1",
        level="commercial",
        severity="high",
        category="other",
        in_scope=True,
        entitlement="active",
        urgent=urgent,
        policy_version="v1",
        reasons=("r",),
        submitted_at=NOW,
        classified_at=NOW,
    )


def test_a_classified_ticket_is_queued_in_tier1_once() -> None:
    from tests.unit.escalation.factories import ctx  # the shipped rules and policy

    evening = ctx(NOW.replace(hour=17))  # high severity, but tier 2 has gone home: tier 1
    state, events = handle(TicketState(tid="TID-1"), classified(urgent=True), evening)
    assert len(events) == 1 and isinstance(events[0], TicketQueued)
    assert (events[0].queue, events[0].urgent, events[0].submitted_at) == ("tier1", True, NOW)
    assert handle(state, classified(), evening)[1] == []


def test_acknowledgement_waits_for_requester_level_and_deadline() -> None:
    facts = TicketFacts(
        "TID-1", "ada@example.com", "Ada", "web", "Down", level="commercial", entitlement="active"
    )
    assert acknowledgement(facts, Routing()) == []
    [due] = acknowledgement(replace(facts, deadline=NOW), Routing())
    text = Renderer().render(due.kind, due.context)
    assert "[TID-1]" in text.subject and "commercial" in text.text
    assert "2026-11-27 15:00" in text.text and "keep [TID-1]" in text.text
    [expired] = acknowledgement(replace(facts, entitlement="expired"), Routing())
    assert "renew" in Renderer().render(expired.kind, expired.context).text
