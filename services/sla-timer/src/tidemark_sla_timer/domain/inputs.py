"""Upstream facts about a ticket -> the SLA engine's events, replayed into its state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import tidekit.sla as sla
from tidekit.events.vocabulary import Entitlement, Level, Severity

InputKind = Literal[
    "customer_message",
    "staff_replied",
    "status",
    "resolved",
    "reopened",
    "reclassified",
    "escalated",
]
# Statuses that pause the running clock (SPEC 1.5, 2): waiting for a third party, or for the
# customer's answer. A customer message ends a wait for the customer, not an on_hold.
PAUSING = ("on_hold", "waiting_on_customer")
RESUMING = ("new", "open")
CLOSING = ("resolved", "closed")


@dataclass(frozen=True)
class TicketFacts:
    """What the classifier said about the ticket (its first classification)."""

    level: Level
    severity: Severity | None
    entitlement: Entitlement
    submitted_at: datetime


@dataclass(frozen=True)
class ClockInput:
    """One upstream fact that moves the clocks, in the order it happened."""

    at: datetime
    kind: InputKind
    seq: int = 0  # arrival order; breaks ties between facts at the same instant
    status: str | None = None
    level: Level | None = None
    severity: Severity | None = None


def engine_events(inputs: Iterable[ClockInput]) -> list[sla.TicketEvent]:
    """The engine's events for these facts (already in time order)."""
    out: list[sla.TicketEvent] = []
    waiting_for_customer = False
    for i in inputs:
        match i.kind:
            case "customer_message":
                if waiting_for_customer:
                    out.append(sla.Resumed(i.at))
                    waiting_for_customer = False
                out.append(sla.CustomerMessage(i.at))
            case "staff_replied":
                out.append(sla.StaffReplied(i.at))
            case "status" if i.status in PAUSING:
                out.append(sla.OnHold(i.at))
                waiting_for_customer = i.status == "waiting_on_customer"
            case "status" if i.status in RESUMING:
                out.append(sla.Resumed(i.at))
                waiting_for_customer = False
            case "status" if i.status in CLOSING:
                out.append(sla.Resolved(i.at))
            case "resolved":
                out.append(sla.Resolved(i.at))
            case "reopened":
                out.append(sla.Reopened(i.at))
                waiting_for_customer = False
            case "reclassified":
                out.append(sla.Reclassified(i.at, level=i.level, severity=i.severity))
            case "escalated" if i.level is not None:
                out.append(sla.Escalated(i.at, i.level))
    return out


def replay(
    policy: sla.Policy, facts: TicketFacts | None, inputs: Iterable[ClockInput]
) -> sla.TicketClocks | None:
    """The ticket's clocks after all its facts (None before it is classified: no level, no
    clock). Facts are applied in time order whatever order they arrived in."""
    if facts is None:
        return None
    state = sla.initial(policy, facts.level, facts.severity, facts.entitlement)
    state = sla.evolve(state, sla.Submitted(facts.submitted_at))
    ordered = sorted(inputs, key=lambda i: (i.at, i.seq))
    for event in engine_events(i for i in ordered if i.at >= facts.submitted_at):
        state = sla.evolve(state, event)
    return state
