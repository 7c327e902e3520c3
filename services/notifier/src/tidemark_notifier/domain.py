"""The notifier's pure decisions: which message a ticket is owed, and its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from jinja2 import Environment, StrictUndefined

_templates = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class TicketFacts:
    tid: str
    requester_email: str | None
    requester_name: str | None
    subject: str | None
    level: str | None
    entitlement: str | None
    deadline: datetime | None


@dataclass(frozen=True)
class Message:
    kind: str
    cause_key: str
    recipient: str
    subject: str
    body: str


def render(template: str, **values: object) -> str:
    source = resources.files("tidemark_notifier").joinpath("templates", template).read_text()
    return _templates.from_string(source).render(**values)


def acknowledgement_due(facts: TicketFacts) -> Message | None:
    """The acknowledgement is owed once requester, level and deadline (or expiry) are known."""
    if facts.requester_email is None or facts.level is None:
        return None
    expired = facts.entitlement == "expired"
    if facts.deadline is None and not expired:
        return None
    deadline = facts.deadline.strftime("%Y-%m-%d %H:%M") if facts.deadline else None
    body = render(
        "acknowledgement.txt.j2",
        name=facts.requester_name,
        subject=facts.subject or "",
        tid=facts.tid,
        level=facts.level,
        deadline=deadline,
    )
    return Message(
        kind="acknowledgement",
        cause_key=f"acknowledgement:{facts.tid}",
        recipient=facts.requester_email,
        subject=f"[{facts.tid}] We received your request: {facts.subject or ''}".strip(),
        body=body,
    )
