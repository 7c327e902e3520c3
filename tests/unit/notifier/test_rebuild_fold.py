"""notifier.rebuild.TicketsFold gives the facts the handler saved: `decide` on each consumed
event, and a customer e-mail's Message-ID in the thread once, when the handler stored it
(known from `notifications`), whatever the routing (a webhook-only channel stores none)."""

from __future__ import annotations

import uuid

from tidekit.events.base import DomainEvent
from tidemark_notifier.domain import Routing, TicketFacts, decide, with_thread
from tidemark_notifier.rebuild import TicketsFold

from . import samples

ROUTING = Routing(channel_webhooks={"chat": False})  # chat: acknowledged by webhook only


def _handled(events: list[DomainEvent]) -> tuple[dict[str, TicketFacts], dict[str, str]]:
    """What service.on_event saved, and the customer e-mails it stored (cause -> id)."""
    facts: dict[str, TicketFacts] = {}
    stored: dict[str, str] = {}
    for n, e in enumerate(events):
        tid = e.stream_id()
        after, owed = decide(facts.get(tid, TicketFacts(tid)), e, f"ev-{n}", ROUTING)
        for m in owed:
            if m.cause_key in stored or m.channel != "email" or m.audience != "customer":
                continue
            stored[m.cause_key] = f"<{uuid.uuid4()}@tidemark.test>"
            after = with_thread(after, stored[m.cause_key])
        facts[tid] = after
    return facts, stored


def test_the_fold_gives_the_facts_the_handler_saved() -> None:
    events: list[DomainEvent] = [
        samples.submitted("TID-1", "ada@example.com", channel="web"),
        samples.classified("TID-1"),
        samples.clock_started("TID-1"),  # acknowledged by e-mail
        samples.message_added("TID-1", "<m1@mail.example>", "ada@example.com"),
        samples.staff_replied("TID-1", "m-2"),
        samples.staff_replied("TID-1", "m-2"),  # the same reply again: stored once
        samples.submitted("TID-2", "bob@example.com", channel="chat"),
        samples.classified("TID-2"),
        samples.clock_started("TID-2"),  # acknowledged by webhook only: no Message-ID
        samples.queued("TID-2"),
        samples.resolved("TID-1"),
    ]
    live, stored = _handled(events)
    fold = TicketsFold(mails=stored)
    for n, e in enumerate(events):
        fold.apply(e, f"ev-{n}")
    assert fold.facts == live
    assert len(live["TID-1"].thread) == 4 and live["TID-2"].thread == ()
    tids, rows = fold.take_dirty()
    assert tids == ["TID-1", "TID-2"] and rows[1][-1] == []
