"""Severity, scope, category and urgency from rules that are data, with matched phrases."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidekit.events.intake import Requester, TicketSubmitted
from tidekit.sla import load_policy
from tidemark_classifier.domain import (
    COMMERCIAL_LEVELS,
    License,
    Rules,
    RulesError,
    classify,
    default_rules,
    scope_for,
    severity_for,
    support_periods,
)
from tidemark_classifier.domain.rules import own_words, shipped_model
from tidemark_classifier.rules_file import load_rules

RULES = default_rules()
PERIODS = support_periods(load_policy())


@pytest.mark.parametrize(
    ("hint", "text", "severity", "says"),
    [
        (None, "Our site is down since 3 am", "critical", "site-down"),
        ("low", "500 error on every page of the shop", "critical", "not the hinted low"),
        ("critical", "The admin is a bit slow today", "medium", "not the hinted critical"),
        ("critical", "There is a typo in the footer", "low", "cosmetic"),
        ("high", "I cannot log in to the backend", "high", "confirmed"),
        ("high", "The colour picker resets my choice", "high", "no text rule matched"),
        (None, "How do I change the logo?", None, "no hint and no text rule"),
    ],
)
def test_the_hint_is_checked_against_the_text(
    hint: str | None, text: str, severity: str | None, says: str
) -> None:
    decided = severity_for(RULES, hint, "Help", text)  # type: ignore[arg-type]
    assert decided.value == severity
    assert len(decided.reasons) == 1 and says in decided.reasons[0]


def test_scope_category_and_urgency_carry_the_matched_phrases() -> None:
    hacked = scope_for(RULES, "Site hacked", "Someone defaced our homepage, restore from backup")
    assert (hacked.category, hacked.in_scope, hacked.urgent) == ("security", True, True)
    assert any('"restore from backup"' in r for r in hacked.reasons)
    broken = scope_for(RULES, "Help", "After the update to 24.2 the shop shows a blank page")
    assert broken.urgent and any("broken-after-update" in r for r in broken.reasons)
    custom = scope_for(RULES, "Quote", "Could you develop a custom module for our ERP?")
    assert not custom.in_scope and any("custom-code" in r for r in custom.reasons)
    server = scope_for(RULES, "nginx", "Please install nginx on my VPS and configure my server")
    assert not server.in_scope and server.category == "installation"
    lessons = scope_for(RULES, "PHP", "Can you teach me PHP? I want to write my own plugins")
    assert not lessons.in_scope
    plain = scope_for(RULES, "Hello", "Just saying hi")
    assert (plain.category, plain.in_scope, plain.urgent) == ("other", True, False)
    assert plain.reasons == ("category other: no category rule matched",)


def test_quoted_history_and_signatures_are_not_the_customers_words() -> None:
    mail = "Thanks, the installer works now.\n\n-- \nAda, Site is down Ltd.\n> Our site is down\n"
    assert own_words(mail).strip() == "Thanks, the installer works now."
    reply = "Still slow.\n\nOn Mon, 23 Nov 2026 Bob <b@x.io> wrote:\n> hacked?"
    assert "hacked" not in own_words(reply)
    assert own_words("a\n> quoted\nb") == "a\nb"


def test_rules_are_data_and_an_operator_file_replaces_them() -> None:
    mine = Rules.from_document(
        {
            "version": "ops-1",
            "severity": [{"id": "boom", "severity": "critical", "patterns": [r"\bboom\b"]}],
            "urgent": [{"id": "fire", "patterns": ["fire"]}],
            "out_of_scope": [{"id": "pizza", "patterns": ["pizza"]}],
            "categories": {"licensing": ["invoice"]},
        }
    )
    assert severity_for(mine, "low", "x", "it went boom").value == "critical"
    decided = scope_for(mine, "x", "order pizza, the invoice is on fire")
    assert (decided.category, decided.in_scope, decided.urgent) == ("licensing", False, True)
    assert mine.version == "ops-1"


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({}, "version"),
        (
            {"version": "1", "severity": [{"id": "x", "severity": "huge", "patterns": ["a"]}]},
            "severity[0].severity",
        ),
        (
            {"version": "1", "urgent": [{"id": "x", "patterns": ["(unclosed"]}]},
            "urgent[0].patterns[0]",
        ),
        ({"version": "1", "urgent": [{"patterns": ["a"]}]}, "urgent[0]"),
        ({"version": "1", "categories": {"gossip": ["a"]}}, "categories.gossip"),
        ({"version": "1", "categories": {"security": []}}, "categories.security"),
        ({"version": "1", "vip_coupons": {"premium": -1}}, "vip_coupons"),
        ({"version": "1", "urgent": [{"id": "x", "all_of": [["a"]]}]}, "urgent[0].all_of"),
        ({"version": "1", "text_model": "maybe"}, "text_model"),
        (
            {"version": "1", "urgent": [{"id": "x", "all_of": [["a"], ["(b"]]}]},
            r"urgent[0].all_of[1][0]",
        ),
    ],
)
def test_a_bad_rules_document_is_refused_naming_the_place(doc: dict, where: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RulesError, match=where.replace("[", r"\[").replace("]", r"\]")):
        Rules.from_document(doc)


def test_an_all_of_rule_needs_evidence_from_every_group_anywhere_in_the_text() -> None:
    doc = {
        "version": "ops-3",
        "urgent": [{"id": "after-upgrade", "all_of": [["upgraded"], ["fatal error", "blank"]]}],
    }
    mine = Rules.from_document(doc)
    text = "We upgraded to 24.2 last night.\nNow every product page gives a fatal error."
    decided = scope_for(mine, "help", text)
    assert decided.urgent
    assert 'rule after-upgrade matched "upgraded ... fatal error"' in " ".join(decided.reasons)
    assert not scope_for(mine, "help", "We upgraded to 24.2 last night, all fine.").urgent
    assert not scope_for(mine, "help", "Every page gives a fatal error.").urgent


@pytest.mark.parametrize(
    "body",
    [
        "Please check the backup.\n" + "1." * 50_000,
        "after the update " + "a " * 50_000,
        "restore " + "x1 " * 33_000,
        "the shop " * 11_000 + "from backup",
        "1," * 50_000 + " gone",
    ],
    ids=["digits", "words", "restore", "phrases", "commas"],
)
def test_a_100_kb_body_is_classified_in_linear_time(body: str) -> None:
    """intake admits bodies of 100 KB; a pattern that backtracks quadratically took 79 s
    on the first of these. The bound is loose: it separates linear from quadratic."""
    started = time.process_time()
    scope_for(RULES, "x", body)
    severity_for(RULES, None, "x", body)
    assert time.process_time() - started < 15


WORDS = st.sampled_from(
    "site is down slow typo hacked custom module install update licence invoice error 500 "
    "every page cannot log in backup restore plugin nginx please add docs the our a".split()
)


@settings(max_examples=300, deadline=None)
@given(
    subject=st.lists(WORDS, max_size=6).map(" ".join),
    body=st.one_of(st.lists(WORDS, max_size=40).map(" ".join), st.text(max_size=300)),
    hint=st.sampled_from([None, "critical", "high", "medium", "low"]),
    edition=st.sampled_from(["business", "premium", "demo", None]),
    registered=st.booleans(),
    vip=st.booleans(),
)
def test_every_classification_is_consistent_and_explained(
    subject: str, body: str, hint: str | None, edition: str | None, registered: bool, vip: bool
) -> None:
    now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    lic = None
    if edition:
        lic = License(
            "LIC-1", edition, "O", frozenset({"ada@example.com"}), False, date(2026, 6, 1), None
        )
    submitted = TicketSubmitted(
        tid="TID-1",
        channel="email",
        requester=Requester(email="ada@example.com" if registered else "eve@example.com"),
        license_key="LIC-1",
        subject=subject,
        body=body,
        severity_hint=hint,  # type: ignore[arg-type]
        vip_coupon=vip,
        submitted_at=now,
    )
    c = classify(submitted, lic, "p1", now, periods=PERIODS)
    assert c.reasons and all(r.strip() for r in c.reasons)
    assert (c.level == "non_product") == (not c.in_scope)
    if c.level not in COMMERCIAL_LEVELS:
        assert c.severity is None
    if c.urgent:
        assert any(r.startswith("urgent") for r in c.reasons)
    if c.level == "vip_request":
        assert vip and registered and edition == "premium"
    if c.severity is not None and c.severity != hint:
        assert any("rule" in r and f"severity {c.severity}" in r for r in c.reasons)


def test_an_operator_rules_file_is_loaded_or_refused_with_its_name(tmp_path: Path) -> None:
    good = tmp_path / "rules.yaml"
    good.write_text('version: "ops-2"\ncategories:\n  licensing: ["invoice"]\n')
    model = shipped_model()
    assert load_rules(good).version == f"ops-2+{model.version}"
    assert load_rules(good).model is model  # the shipped model, unless the file says no
    good.write_text('version: "ops-3"\ntext_model: false\ncategories:\n  licensing: ["x"]\n')
    assert (load_rules(good).version, load_rules(good).model) == ("ops-3", None)
    assert load_rules(None) is default_rules()
    bad = tmp_path / "bad.yaml"
    bad.write_text('version: "x"\nurgent:\n  - id: a\n    patterns: ["(oops"]\n')
    with pytest.raises(RulesError, match=r"bad\.yaml: urgent\[0\]\.patterns\[0\]"):
        load_rules(bad)
    with pytest.raises(RulesError, match=r"missing\.yaml"):
        load_rules(tmp_path / "missing.yaml")
