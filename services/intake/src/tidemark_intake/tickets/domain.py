"""Intake's pure decisions on submission and classification (the lifecycle: lifecycle.py).

No I/O here: handlers load the state, call these, and append what they return.
"""

from __future__ import annotations

from datetime import datetime

from tidekit.events.base import DomainEvent
from tidekit.events.intake import (
    Product,
    Requester,
    StatusChanged,
    TicketSubmitted,
)

from .api_models import TicketCreate
from .attachments import CheckedAttachment
from .lifecycle import TicketState


def decide_submit(
    tid: str, command: TicketCreate, attachments: list[CheckedAttachment], now: datetime
) -> TicketSubmitted:
    """A submission always records exactly one event: the ticket as submitted."""
    return TicketSubmitted(
        tid=tid,
        channel=command.channel,
        requester=Requester(email=command.requester.email, name=command.requester.name),
        license_key=command.license_key,
        subject=command.subject,
        body=command.body,
        product=Product(**command.product.model_dump()),
        site_url=command.site_url,
        severity_hint=command.severity_hint,
        vip_coupon=command.vip_coupon,
        attachments=tuple(a.as_ref() for a in attachments),
        submitted_at=now,
    )


def decide_open_after_classification(state: TicketState, now: datetime) -> list[DomainEvent]:
    """A classified ticket leaves `new` for `open`; later classifications change nothing."""
    if state.status != "new":
        return []
    return [
        StatusChanged(
            tid=state.tid,
            from_status="new",
            to_status="open",
            reason="classified",
            changed_by="system",
            changed_at=now,
        )
    ]
