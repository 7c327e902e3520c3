"""Upstream facts about a ticket -> the SLA engine's events, replayed into its state."""

from __future__ import annotations

from collections.abc import Collection, Iterable
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
# Which statuses pause the running clock is policy data (SPEC 1.5: only on_hold by
# default; see `Policy.pausing_statuses`). Any other active status runs it: leaving a
# pausing status for one that does not pause ends the pause.
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


def engine_events(inputs: Iterable[ClockInput], pausing: Collection[str]) -> list[sla.TicketEvent]:
    """The engine's events for these facts (already in time order), with `pausing` the
    statuses that pause a clock. When waiting_on_customer pauses, the customer's message
    ends that wait (it does not end an on_hold: that is a wait for a third party)."""
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
            case "status" if i.status in pausing:
                out.append(sla.OnHold(i.at))
                waiting_for_customer = i.status == "waiting_on_customer"
            case "status" if i.status in CLOSING:
                out.append(sla.Resolved(i.at))
            case "status":  # new, open, or a status this policy does not pause
                out.append(sla.Resumed(i.at))
                waiting_for_customer = False
            case "resolved":
                out.append(sla.Resolved(i.at))
            case "reopened":
                out.append(sla.Reopened(i.at))
                waiting_for_customer = False
            case "reclassified" if i.level is not None:
                # ticket.reclassified always carries the whole new class, so its severity
                # is taken as is: None clears it (the engine's KEEP is for absent fields)
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
    facts_since = (i for i in ordered if i.at >= facts.submitted_at)
    for event in engine_events(facts_since, policy.pausing_statuses):
        state = sla.evolve(state, event)
    return state
