"""The notifier's pure decisions: what it knows of a ticket, and which messages it owes.

`decide(facts, event, event_id, routing)` returns the ticket's new facts and the messages
the event makes owed. Each message has a cause key; with its recipient it is unique, so a
redelivered or re-emitted event owes nothing new. No I/O here: the shell renders the
templates, stores the rows and sends them after commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from tidekit.events import classifier, escalation, intake, sla
from tidekit.events.base import DomainEvent

Channel = Literal["email", "webhook"]
Audience = Literal["customer", "staff"]
MAX_REFERENCES = 20
_MSGID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")

CLOSE_REASONS = {
    "out_of_scope": "the request is outside the scope of our product support",
    "abusive_language": "the conversation did not follow our rules of conduct",
    "unlicensed_copy": "the product copy in question is not licensed",
    "duplicate": "the same issue is already handled in another ticket",
    "other": "our support team closed it",
}
COUPON_REASONS = {
    "used_up": "all VIP coupons of this license year have been used",
    "wrong_edition": "VIP coupons come only with Premium and Ultimate licenses",
    "expired": "the license's support period has ended",
    "unregistered_sender": "the sender address is not registered on the license",
    "unknown_license": "we could not find the license key",
}


@dataclass(frozen=True)
class TicketFacts:
    """The notifier's projection of a ticket, folded from the events it consumes."""

    tid: str
    requester_email: str | None = None
    requester_name: str | None = None
    channel: str | None = None
    subject: str | None = None
    license_key: str | None = None
    level: str | None = None
    severity: str | None = None
    entitlement: str | None = None
    deadline: datetime | None = None
    queue: str | None = None
    coupon_refusal: tuple[str, str] | None = None  # (reason, explanation)
    acknowledged: bool = False
    coupon_told: bool = False
    thread: tuple[str, ...] = ()  # Message-IDs of the ticket's mails, oldest first


@dataclass(frozen=True)
class Routing:
    """Where messages go, from the settings (no secrets, no URLs: only names)."""

    queue_emails: dict[str, str] = field(default_factory=dict)
    alert_webhooks: frozenset[str] = frozenset()
    channel_webhooks: dict[str, bool] = field(default_factory=dict)  # channel -> also e-mail
    customer_time_zones: dict[str, str] = field(default_factory=dict)
    default_queue: str = "tier1"
    rating_url: str = ""
    renew_url: str = ""
    staff_ticket_url: str = ""


@dataclass(frozen=True)
class Owed:
    """A message to render and send: `kind` names its templates."""

    kind: str
    cause_key: str
    channel: Channel
    recipient: str  # an address, or webhook:<settings key>
    audience: Audience
    context: dict[str, Any]
    threaded: bool = False


def is_message_id(value: str | None) -> bool:
    return bool(value and _MSGID.match(value.strip()))


def zone_for(email: str | None, zones: dict[str, str]) -> str | None:
    if not email:
        return None
    address = email.lower()
    return zones.get(address) or zones.get(address.rpartition("@")[2])


def when(moment: datetime | None, zone: str | None = None) -> str | None:
    if moment is None:
        return None
    local = moment.astimezone(ZoneInfo(zone or "UTC"))
    return local.strftime("%Y-%m-%d %H:%M ") + (zone or "UTC")


# --- folding -----------------------------------------------------------------------------
def evolve(facts: TicketFacts, event: DomainEvent) -> TicketFacts:
    if isinstance(event, intake.TicketSubmitted):
        return replace(
            facts,
            requester_email=str(event.requester.email),
            requester_name=event.requester.name or None,
            channel=event.channel,
            subject=event.subject,
            license_key=event.license_key,
        )
    if isinstance(event, classifier.TicketClassified):
        return replace(
            facts, level=event.level, severity=event.severity, entitlement=event.entitlement
        )
    if isinstance(event, classifier.TicketReclassified):
        return replace(facts, level=event.level, severity=event.severity)
    if isinstance(event, classifier.VipCouponRefused):
        return replace(facts, coupon_refusal=(event.reason, event.explanation))
    if isinstance(event, sla.ClockStarted) and event.kind == "first_response":
        return facts if facts.deadline else replace(facts, deadline=event.deadline)
    if isinstance(event, escalation.TicketQueued):
        return replace(facts, queue=event.queue)
    if isinstance(event, escalation.TicketEscalated):
        return replace(facts, queue=event.to_queue)
    if isinstance(event, intake.MessageAdded) and is_message_id(event.message_id):
        return with_thread(facts, event.message_id.strip())
    return facts


def with_thread(facts: TicketFacts, message_id: str) -> TicketFacts:
    if message_id in facts.thread:
        return facts
    return replace(facts, thread=(*facts.thread, message_id)[-MAX_REFERENCES:])


# --- deciding ----------------------------------------------------------------------------
def decide(
    facts: TicketFacts, event: DomainEvent, event_id: str, routing: Routing
) -> tuple[TicketFacts, list[Owed]]:
    facts = evolve(facts, event)
    owed: list[Owed] = []
    if not facts.acknowledged and (ack := acknowledgement(facts, routing)):
        facts = replace(facts, acknowledged=True)
        owed += ack
    refusal = facts.coupon_refusal
    if not facts.coupon_told and refusal and facts.requester_email:
        facts = replace(facts, coupon_told=True)
        reason, explanation = refusal
        owed.append(
            _customer(
                facts,
                routing,
                "coupon_refused",
                f"coupon_refused:{facts.tid}",
                reason=reason,
                reason_text=COUPON_REASONS.get(reason, reason),
                explanation=explanation,
            )
        )
    owed += _for_event(facts, event, event_id, routing)
    return facts, owed


def acknowledgement(facts: TicketFacts, routing: Routing) -> list[Owed]:
    """Owed once requester and level are known and the deadline too (or expiry means none)."""
    if facts.requester_email is None or facts.level is None:
        return []
    expired = facts.entitlement == "expired"
    if facts.deadline is None and not expired:
        return []
    kind = "entitlement_expired" if expired else "acknowledgement"
    cause = f"acknowledgement:{facts.tid}"
    message = _customer(facts, routing, kind, cause, renew_url=routing.renew_url)
    webhook_also_email = routing.channel_webhooks.get(facts.channel or "")
    if webhook_also_email is None:
        return [message]
    hook = replace(message, channel="webhook", recipient=f"webhook:channel:{facts.channel}")
    return [hook, message] if webhook_also_email else [hook]


def _for_event(
    facts: TicketFacts, event: DomainEvent, event_id: str, routing: Routing
) -> list[Owed]:
    if isinstance(event, intake.StaffReplied):
        if event.visibility != "public" or not facts.requester_email:
            return []
        cause = f"staff_reply:{event.message_id}"
        reply = _customer(facts, routing, "staff_reply", cause, body=event.body)
        return [replace(reply, threaded=True)]
    if isinstance(event, intake.TicketResolved) and facts.requester_email:
        rating = routing.rating_url.replace("{tid}", facts.tid)
        msg = _customer(facts, routing, "resolved", f"resolved:{event_id}", rating_url=rating)
        return [replace(msg, threaded=True)]
    if isinstance(event, intake.TicketClosed) and facts.requester_email:
        reason = CLOSE_REASONS.get(event.reason, event.reason)
        msg = _customer(
            facts,
            routing,
            "closed",
            f"closed:{event_id}",
            reason=event.reason,
            reason_text=reason,
            note=event.note,
        )
        return [replace(msg, threaded=True)]
    if isinstance(event, intake.CredentialsDestroyed):
        told = replace(facts, requester_email=str(event.requester_email))
        cause = f"credentials_destroyed:{event.credentials_ref}"
        return [replace(_customer(told, routing, "credentials_destroyed", cause), threaded=True)]
    if isinstance(event, sla.SlaWarning | sla.SlaBreached):
        kind = "sla_warning" if isinstance(event, sla.SlaWarning) else "sla_breached"
        queue = facts.queue or routing.default_queue
        extra = {
            "obligation": event.kind,
            "deadline": when(event.deadline),
            "queue": queue,
        }
        return _staff(facts, routing, kind, f"{kind}:{event.obligation_id}", queue, extra)
    if isinstance(event, escalation.TicketEscalated):
        extra = {
            "queue": event.to_queue,
            "from_queue": event.from_queue,
            "reason": event.reason,
            "rule": event.rule,
            "escalated_by": event.escalated_by,
        }
        cause = f"escalated:{event_id}"
        return _staff(facts, routing, "escalated", cause, event.to_queue, extra)
    return []


def _base_context(facts: TicketFacts) -> dict[str, Any]:
    return {
        "tid": facts.tid,
        "subject": facts.subject or "",
        "name": facts.requester_name,
        "requester_email": facts.requester_email,
        "channel": facts.channel,
        "level": facts.level,
        "severity": facts.severity,
        "entitlement": facts.entitlement,
        "license_key": facts.license_key,
    }


def _customer(facts: TicketFacts, routing: Routing, kind: str, cause: str, **extra: Any) -> Owed:
    assert facts.requester_email is not None
    zone = zone_for(facts.requester_email, routing.customer_time_zones)
    context = {
        **_base_context(facts),
        "deadline": when(facts.deadline),
        "deadline_local": when(facts.deadline, zone) if zone and zone != "UTC" else None,
        "time_zone": zone,
        **extra,
    }
    return Owed(kind, cause, "email", facts.requester_email, "customer", context)


def _staff(
    facts: TicketFacts,
    routing: Routing,
    kind: str,
    cause: str,
    queue: str,
    extra: dict[str, Any],
) -> list[Owed]:
    context = {
        **_base_context(facts),
        "ticket_url": routing.staff_ticket_url.replace("{tid}", facts.tid),
        **extra,
    }
    owed: list[Owed] = []
    address = routing.queue_emails.get(queue) or routing.queue_emails.get("*")
    if address:
        owed.append(Owed(kind, cause, "email", address, "staff", context))
    hook = queue if queue in routing.alert_webhooks else "*"
    if hook in routing.alert_webhooks:
        owed.append(Owed(kind, cause, "webhook", f"webhook:alert:{hook}", "staff", context))
    return owed
