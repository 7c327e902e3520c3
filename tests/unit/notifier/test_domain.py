"""The notifier's pure decisions: who is owed what, once, whatever the arrival order."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from tidekit.events.base import DomainEvent
from tidemark_notifier.domain import Owed, Routing, TicketFacts, decide, zone_for

from . import samples as s

TID = "TID-42"
ADA = "ada@example.de"
ROUTING = Routing(
    queue_emails={"tier2": "tier2@desk.example", "*": "desk@desk.example"},
    alert_webhooks=frozenset({"tier2"}),
    channel_webhooks={"chat": True, "in_product": False},
    customer_time_zones={"example.de": "Europe/Berlin"},
    rating_url="https://support.example/{tid}/rate",
    renew_url="https://shop.example/renew",
    staff_ticket_url="https://desk.example/{tid}",
)


def run(events: list[DomainEvent], routing: Routing = ROUTING) -> tuple[TicketFacts, list[Owed]]:
    facts, owed = TicketFacts(TID), []
    for n, event in enumerate(events):
        facts, more = decide(facts, event, f"e-{n}", routing)
        owed += more
    return facts, owed


def keyed(owed: list[Owed]) -> set[tuple[str, str]]:
    return {(o.cause_key, o.recipient) for o in owed}


@given(st.permutations([0, 1, 2]))
def test_acknowledgement_is_owed_once_whatever_the_arrival_order(order: list[int]) -> None:
    events = [s.submitted(TID, ADA), s.classified(TID), s.clock_started(TID)]
    facts, owed = run([events[i] for i in order] + [s.classified(TID), s.clock_started(TID)])
    assert [(o.kind, o.recipient, o.channel) for o in owed] == [("acknowledgement", ADA, "email")]
    ack = owed[0]
    assert ack.cause_key == f"acknowledgement:{TID}" and facts.acknowledged
    assert ack.context["level"] == "commercial"
    assert ack.context["deadline"] == "2026-11-28 15:00 UTC"
    assert ack.context["deadline_local"] == "2026-11-28 16:00 Europe/Berlin"


def test_no_acknowledgement_before_the_deadline_is_known() -> None:
    _, owed = run([s.submitted(TID, ADA), s.classified(TID)])
    assert owed == []


def test_next_response_clock_is_not_the_acknowledged_deadline() -> None:
    _, owed = run([s.submitted(TID, ADA), s.classified(TID), s.clock_started(TID, "next_response")])
    assert owed == []


def test_unknown_zone_gives_utc_only() -> None:
    _, owed = run([s.submitted(TID, "bob@example.com"), s.classified(TID), s.clock_started(TID)])
    assert owed[0].context["deadline_local"] is None and owed[0].context["time_zone"] is None


def test_zone_by_address_wins_over_domain() -> None:
    zones = {"example.de": "Europe/Berlin", "ada@example.de": "Asia/Tokyo"}
    assert zone_for("Ada@Example.de", zones) == "Asia/Tokyo"
    assert zone_for("eve@example.de", zones) == "Europe/Berlin"
    assert zone_for("eve@example.org", zones) is None


def test_expired_entitlement_is_told_how_to_renew_without_a_clock() -> None:
    _, owed = run([s.submitted(TID, ADA), s.classified(TID, "commercial", "expired")])
    assert [(o.kind, o.cause_key) for o in owed] == [
        ("entitlement_expired", f"acknowledgement:{TID}")
    ]
    assert owed[0].context["renew_url"] == "https://shop.example/renew"


def test_chat_gets_a_webhook_and_email_in_product_the_webhook_only() -> None:
    _, chat = run([s.submitted(TID, ADA, "chat"), s.classified(TID), s.clock_started(TID)])
    assert [(o.channel, o.recipient) for o in chat] == [
        ("webhook", "webhook:channel:chat"),
        ("email", ADA),
    ]
    _, inp = run([s.submitted(TID, ADA, "in_product"), s.classified(TID), s.clock_started(TID)])
    assert [(o.channel, o.recipient) for o in inp] == [("webhook", "webhook:channel:in_product")]
    _, web = run([s.submitted(TID, ADA, "web"), s.classified(TID), s.clock_started(TID)])
    assert [o.channel for o in web] == ["email"]


def test_public_staff_reply_is_mailed_threaded_and_internal_note_is_not() -> None:
    base = [s.submitted(TID, ADA), s.message_added(TID, "<m1@mail.example>", ADA)]
    _, owed = run([*base, s.staff_replied(TID, "r-1"), s.staff_replied(TID, "r-2", "internal")])
    assert [(o.kind, o.cause_key, o.threaded) for o in owed] == [
        ("staff_reply", "staff_reply:r-1", True)
    ]
    assert owed[0].context["body"].startswith("Please clear the cache")


def test_customer_message_ids_join_the_thread_once_and_internal_ids_do_not() -> None:
    facts, _ = run(
        [
            s.submitted(TID, ADA),
            s.message_added(TID, "<m1@mail.example>", ADA),
            s.message_added(TID, "<m1@mail.example>", ADA),
            s.message_added(TID, "msg-7", ADA),
        ]
    )
    assert facts.thread == ("<m1@mail.example>",)


def test_status_messages_for_the_customer() -> None:
    _, owed = run(
        [
            s.submitted(TID, ADA),
            s.resolved(TID),
            s.closed(TID),
            s.credentials_destroyed(TID, "owner@example.com"),
        ]
    )
    by_kind = {o.kind: o for o in owed}
    assert by_kind["resolved"].context["rating_url"] == f"https://support.example/{TID}/rate"
    assert by_kind["closed"].context["reason"] == "out_of_scope"
    assert "outside the scope" in by_kind["closed"].context["reason_text"]
    assert by_kind["credentials_destroyed"].recipient == "owner@example.com"


def test_coupon_refusal_before_the_submission_is_told_once_the_requester_is_known() -> None:
    facts, owed = run([s.coupon_refused(TID)])
    assert owed == [] and facts.coupon_refusal is not None
    facts, owed = run([s.coupon_refused(TID), s.submitted(TID, ADA), s.coupon_refused(TID)])
    assert [(o.kind, o.recipient) for o in owed] == [("coupon_refused", ADA)]
    assert owed[0].context["reason"] == "used_up" and "3 of 3" in owed[0].context["explanation"]


def test_sla_alerts_go_to_the_tickets_queue_once_per_obligation() -> None:
    _, owed = run(
        [
            s.submitted(TID, ADA),
            s.queued(TID, "tier1"),
            s.escalated(TID, "tier2"),
            s.warning(TID),
            s.warning(TID),
            s.breached(TID),
        ]
    )
    alerts = [(o.kind, o.channel, o.recipient) for o in owed]
    assert alerts == [
        ("escalated", "email", "tier2@desk.example"),
        ("escalated", "webhook", "webhook:alert:tier2"),
        ("sla_warning", "email", "tier2@desk.example"),
        ("sla_warning", "webhook", "webhook:alert:tier2"),
        ("sla_warning", "email", "tier2@desk.example"),  # re-emitted: same key, stored once
        ("sla_warning", "webhook", "webhook:alert:tier2"),
        ("sla_breached", "email", "tier2@desk.example"),
        ("sla_breached", "webhook", "webhook:alert:tier2"),
    ]
    assert len(keyed(owed)) == 6
    assert all(o.audience == "staff" for o in owed)
    assert owed[0].context["ticket_url"] == f"https://desk.example/{TID}"


def test_alert_for_an_unqueued_ticket_goes_to_the_default_queue() -> None:
    routing = replace(
        ROUTING, queue_emails={"tier1": "t1@desk.example"}, alert_webhooks=frozenset()
    )
    _, owed = run([s.breached(TID)], routing)
    assert [(o.recipient, o.context["queue"]) for o in owed] == [("t1@desk.example", "tier1")]
    _, none = run([s.breached(TID)], replace(routing, queue_emails={}))
    assert none == []


def test_star_address_catches_queues_without_their_own() -> None:
    _, owed = run([s.queued(TID, "supervisor"), s.warning(TID)])
    assert [o.recipient for o in owed] == ["desk@desk.example"]
