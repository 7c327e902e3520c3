"""Events owned by the notifier service (topic tidemark.notifier.v1)."""

from __future__ import annotations

from typing import Literal

from .base import DomainEvent, event
from .vocabulary import UtcDatetime

NotificationChannel = Literal["email", "webhook"]


class _NotificationOutcome(DomainEvent):
    """The fields a sent and a failed notification share, in their order: which
    notification of which ticket, for which event, of what kind, to whom and how. Not an
    event itself (it is not registered); its subclasses' schemas list these first."""

    tid: str
    notification_id: str
    cause_event_id: str
    kind: str
    channel: NotificationChannel
    recipient: str


@event
class NotificationSent(_NotificationOutcome):
    event_type = "notification.sent"
    message_id: str | None = None
    attempts: int
    sent_at: UtcDatetime


@event
class NotificationFailed(_NotificationOutcome):
    event_type = "notification.failed"
    reason: str
    attempts: int
    failed_at: UtcDatetime


@event
class NotificationBounced(DomainEvent):
    """A delivery-status notification (RFC 3464) said the sent e-mail was not delivered."""

    event_type = "notification.bounced"
    tid: str
    notification_id: str
    kind: str
    channel: NotificationChannel = "email"
    recipient: str
    message_id: str
    reason: str
    bounced_at: UtcDatetime
