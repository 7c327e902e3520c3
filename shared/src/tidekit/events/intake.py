"""Events owned by the intake service (topic tidemark.intake.v1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import DomainEvent, Email, JsonDict, event, registry
from .vocabulary import Channel, CloseReason, Severity, Status, UtcDatetime


class Requester(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    email: Email
    name: str = ""


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str | None = None
    edition: str | None = None


class AttachmentRef(BaseModel):
    """An attachment stored outside the event, by content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ref: str = Field(description="sha256 of the content")
    filename: str
    media_type: str
    size: int = Field(ge=0)


class EmailOrigin(BaseModel):
    """How an e-mail became this event: its ids, the earlier text it quoted (kept apart from
    `body`), and the `[TID-<n>]` its subject named with why it was not appended there."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    message_id: str | None = None
    in_reply_to: str | None = None
    quoted: str = ""
    referenced_tid: str | None = None
    not_appended_reason: str | None = None


@event
class TicketSubmitted(DomainEvent):
    event_type = "ticket.submitted"
    tid: str
    channel: Channel
    requester: Requester
    license_key: str | None = None
    subject: str
    body: str
    product: Product = Product()
    site_url: str | None = None
    severity_hint: Severity | None = None
    vip_coupon: bool = False
    attachments: tuple[AttachmentRef, ...] = ()
    submitted_at: UtcDatetime
    email: EmailOrigin | None = None  # set when the ticket came in by e-mail


@event
class MessageAdded(DomainEvent):
    """A customer message appended to the ticket (web, chat or e-mail)."""

    event_type = "ticket.message_added"
    tid: str
    message_id: str
    author_email: Email
    body: str
    via: Channel
    attachments: tuple[AttachmentRef, ...] = ()
    added_at: UtcDatetime
    email: EmailOrigin | None = None  # set when the message came in by e-mail


@event
class StaffReplied(DomainEvent):
    """A staff message; `visibility: internal` is a note the customer never sees."""

    event_type = "ticket.staff_replied"
    tid: str
    message_id: str
    staff_id: str
    body: str
    visibility: Literal["public", "internal"] = "public"
    replied_at: UtcDatetime


@event
class StatusChanged(DomainEvent):
    event_type = "ticket.status_changed"
    tid: str
    from_status: Status
    to_status: Status
    reason: str | None = None
    changed_by: str
    changed_at: UtcDatetime


@event
class TicketResolved(DomainEvent):
    """Version 2 adds the resolution time for analytics (SPEC 1.5: recorded, not promised;
    docs/sla.md "Resolution time"). Intake always sets the three; they are null only in
    version-1 events (upcast) and in events built without them."""

    event_type = "ticket.resolved"
    schema_version = 2
    tid: str
    resolved_by: str
    resolved_at: UtcDatetime
    resolution_seconds: int | None = Field(
        default=None,
        ge=0,
        description="real seconds from submission to this resolution, re-open cycles included",
    )
    resolution_business_seconds: int | None = Field(
        default=None,
        ge=0,
        description="the same span counted on the calendar of the ticket's governing level "
        "target (non_commercial's while not classified)",
    )
    on_hold_seconds: int | None = Field(
        default=None, ge=0, description="real seconds spent on_hold within that span"
    )


@registry.upcaster("ticket.resolved", from_version=1)
def _resolved_v1_to_v2(data: JsonDict) -> JsonDict:
    """Version 1 did not measure the resolution time: unknown, so null."""
    return {
        **data,
        "resolution_seconds": None,
        "resolution_business_seconds": None,
        "on_hold_seconds": None,
    }


@event
class TicketClosed(DomainEvent):
    event_type = "ticket.closed"
    tid: str
    reason: CloseReason
    note: str | None = None
    closed_by: str
    closed_at: UtcDatetime


@event
class TicketReopened(DomainEvent):
    event_type = "ticket.reopened"
    tid: str
    reopened_by: str
    reopened_at: UtcDatetime


@event
class TicketRated(DomainEvent):
    event_type = "ticket.rated"
    tid: str
    rating: int = Field(ge=1, le=5)
    comment: str = ""
    rated_at: UtcDatetime


@event
class SupervisorReviewRequested(DomainEvent):
    event_type = "ticket.supervisor_review_requested"
    tid: str
    reason: str = ""
    requested_at: UtcDatetime


@event
class CredentialsStored(DomainEvent):
    """Only a reference travels: the secret itself stays encrypted in intake's vault."""

    event_type = "ticket.credentials_stored"
    tid: str
    credentials_ref: str
    kinds: tuple[str, ...] = ()
    stored_at: UtcDatetime


@event
class CredentialsDestroyed(DomainEvent):
    event_type = "ticket.credentials_destroyed"
    tid: str
    credentials_ref: str
    requester_email: Email
    destroyed_at: UtcDatetime
