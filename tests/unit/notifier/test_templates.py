"""Every template renders with sample data; operators' files replace the built-in ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import TemplateSyntaxError

from tidemark_notifier.domain import Owed, Routing, TicketFacts, decide
from tidemark_notifier.templates import KINDS, Renderer, TemplateError

from . import samples as s
from .test_domain import ROUTING, TID

ADA = "ada@example.de"


def every_kind() -> dict[str, Owed]:
    """One owed message of each kind, from a realistic ticket history."""
    events = [
        s.submitted(TID, ADA, subject="Checkout <b>fails</b>"),
        s.coupon_refused(TID),
        s.classified(TID),
        s.clock_started(TID),
        s.staff_replied(TID, "r-1"),
        s.resolved(TID),
        s.closed(TID),
        s.credentials_destroyed(TID, ADA),
        s.escalated(TID, "tier2"),
        s.warning(TID),
        s.breached(TID),
    ]
    facts, owed = TicketFacts(TID), {}
    for n, event in enumerate(events):
        facts, more = decide(facts, event, f"e-{n}", ROUTING)
        owed.update({o.kind: o for o in more})
    expired = TicketFacts(TID)
    for n, event in enumerate([s.submitted(TID, ADA), s.classified(TID, "commercial", "expired")]):
        expired, more = decide(expired, event, f"x-{n}", Routing())
        owed.update({o.kind: o for o in more})
    return owed


@pytest.mark.parametrize("kind", KINDS)
def test_every_template_renders_text_and_html(kind: str) -> None:
    owed = every_kind()
    assert set(owed) == set(KINDS)
    out = Renderer().render(kind, owed[kind].context)
    assert f"[{TID}]" in out.subject
    assert out.text.strip() and "{{" not in out.text
    assert out.html.lstrip().startswith("<!DOCTYPE html>") and "</html>" in out.html
    assert "<b>fails</b>" not in out.html, "HTML parts escape what customers wrote"
    if owed[kind].audience == "customer" and kind != "credentials_destroyed":
        assert f"keep [{TID}] in the subject" in " ".join(out.text.split())


def test_acknowledgement_says_level_deadline_in_utc_and_local_and_keep_the_tid() -> None:
    out = Renderer().render("acknowledgement", every_kind()["acknowledgement"].context)
    text = " ".join(out.text.split())
    assert out.subject == f"[{TID}] We received your request: Checkout <b>fails</b>"
    assert "Service level: commercial" in text
    assert "respond by 2026-11-28 15:00 UTC (2026-11-28 16:00 Europe/Berlin, your time)" in text


def test_status_texts_carry_what_the_customer_must_know() -> None:
    owed, r = every_kind(), Renderer()
    assert (
        "https://support.example/TID-42/rate" in r.render("resolved", owed["resolved"].context).text
    )
    closed = r.render("closed", owed["closed"].context).text
    assert "outside the scope" in closed and "Custom code is not covered." in closed
    expired = r.render("entitlement_expired", owed["entitlement_expired"].context).text
    assert "How to renew" in expired and "LIC-1" in expired
    coupon = r.render("coupon_refused", owed["coupon_refused"].context).text
    assert "VIP coupons of this license year have been used" in coupon
    creds = r.render("credentials_destroyed", owed["credentials_destroyed"].context).text
    assert "change those passwords" in creds
    breach = r.render("sla_breached", owed["sla_breached"].context)
    assert "tier2" in breach.subject and "https://desk.example/TID-42" in breach.text


def test_operator_template_replaces_the_built_in_one(tmp_path: Path) -> None:
    (tmp_path / "resolved.txt.j2").write_text(
        "Subject: Done {{ tid }}\nRate us: {{ rating_url }}\n"
    )
    out = Renderer(tmp_path).render("resolved", every_kind()["resolved"].context)
    assert out.subject == f"[{TID}] Done {TID}", "the TID tag is added when a template drops it"
    assert out.text == "Rate us: https://support.example/TID-42/rate\n"
    assert "<!DOCTYPE html>" in out.html  # the HTML part is still the built-in one


def test_template_without_subject_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "closed.txt.j2").write_text("Closed.\n")
    with pytest.raises(TemplateError, match="Subject"):
        Renderer(tmp_path).render("closed", every_kind()["closed"].context)


def test_check_finds_a_broken_operator_template(tmp_path: Path) -> None:
    (tmp_path / "escalated.html.j2").write_text("{% if %}")
    with pytest.raises(TemplateSyntaxError, match=r"Expected an expression"):
        Renderer(tmp_path).check()
