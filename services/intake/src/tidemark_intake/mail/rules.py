"""Intake's pure decisions about an inbound e-mail. No I/O.

- loop rules: automatic mail and our own notifications never make tickets;
- attachments: checked by content like every other channel's;
- threading: a `[TID-<n>]` mail joins ticket n only when its sender is the requester or an
  address registered on the ticket's license; a resolved ticket is re-opened by the reply,
  a closed one is not (the mail starts a new ticket); anything else starts a new ticket with
  the refusal recorded on it (`email.not_appended_reason`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tidekit.events.base import DomainEvent
from tidekit.events.intake import AttachmentRef, EmailOrigin, Requester, TicketSubmitted
from tidemark_intake.tickets import attachments as att
from tidemark_intake.tickets import lifecycle
from tidemark_intake.tickets.lifecycle import TicketState

from .parser import InboundFile, InboundMail

# Same text whether the ticket does not exist or the sender may not write to it: the new
# ticket's requester can read this reason, and it must not tell them which TIDs exist.
NOT_YOURS = "the ticket does not exist or this sender may not write to it; a new ticket was made"


def loop_reason(mail: InboundMail, own_message_id_domain: str) -> str | None:
    """Why this mail must not make or touch a ticket (a mail loop), or None."""
    if mail.auto_reply_reason is not None:
        return f"automatic message ({mail.auto_reply_reason})"
    if mail.message_id and mail.message_id.rstrip(">").lower().endswith(
        "@" + own_message_id_domain.lower()
    ):
        return f"our own message (Message-ID {mail.message_id})"
    return None


def dedupe_key(mail: InboundMail, raw: bytes) -> str:
    """The same mail delivered twice has the same key: its sender and Message-ID (or, for mail
    without one, its bytes)."""
    if mail.message_id:
        return f"{mail.sender} {mail.message_id}"
    return f"{mail.sender} sha256:{hashlib.sha256(raw).hexdigest()}"


def check_files(files: Sequence[InboundFile], max_bytes: int) -> list[att.CheckedAttachment]:
    """Every attachment recognised by its content; raises AttachmentRefused naming the file."""
    checked = []
    for f in files:
        if len(f.content) > max_bytes:
            raise att.AttachmentRefused(f"{f.filename}: larger than the limit of {max_bytes} bytes")
        try:
            checked.append(att.CheckedAttachment(f.filename, att.sniff(f.content), f.content))
        except att.AttachmentRefused as exc:
            raise att.AttachmentRefused(f"{f.filename}: {exc}") from None
    return checked


@dataclass(frozen=True)
class ThreadTarget:
    """The ticket a `[TID-<n>]` subject names, as intake knows it."""

    state: TicketState
    requester_email: str
    license_key: str | None


@dataclass(frozen=True)
class Append:
    tid: str


@dataclass(frozen=True)
class NewTicket:
    not_appended_reason: str | None = None


Route = Append | NewTicket


def route(mail: InboundMail, target: ThreadTarget | None, sender_registered: bool) -> Route:
    """Where the mail goes. `sender_registered`: the sender is a known address of the
    target's license (ignored without a target)."""
    if mail.tid is None:
        return NewTicket()
    if target is None:
        return NewTicket(NOT_YOURS)
    allowed = mail.sender == target.requester_email.lower() or (
        sender_registered and target.license_key is not None
    )
    if not allowed:
        return NewTicket(NOT_YOURS)
    if target.state.status == "closed":
        return NewTicket(f"{target.state.tid} is closed; a reply starts a new ticket")
    return Append(target.state.tid)


def origin(mail: InboundMail, not_appended_reason: str | None = None) -> EmailOrigin:
    return EmailOrigin(
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        quoted=mail.quoted,
        referenced_tid=mail.tid,
        not_appended_reason=not_appended_reason,
    )


def decide_new_ticket(
    tid: str,
    mail: InboundMail,
    files: Sequence[att.CheckedAttachment],
    license_key: str | None,
    not_appended_reason: str | None,
    now: datetime,
) -> list[DomainEvent]:
    return [
        TicketSubmitted(
            tid=tid,
            channel="email",
            requester=Requester(email=mail.sender, name=mail.sender_name[:200]),
            license_key=license_key,
            subject=mail.subject,
            body=mail.body,
            attachments=tuple(_ref(a) for a in files),
            submitted_at=now,
            email=origin(mail, not_appended_reason),
        )
    ]


def decide_append(
    state: TicketState,
    mail: InboundMail,
    files: Sequence[att.CheckedAttachment],
    message_id: str,
    now: datetime,
) -> list[DomainEvent]:
    """The customer's reply on their ticket; a resolved ticket is re-opened by it first."""
    events: list[DomainEvent] = []
    if state.status == "resolved":
        events += lifecycle.decide(state, lifecycle.Reopen(by=f"customer:{mail.sender}"), now)
        for e in events:
            state = lifecycle.evolve(state, e)
    added = lifecycle.decide(
        state,
        lifecycle.CustomerMessage(
            author_email=mail.sender, body=mail.body, via="email", message_id=message_id
        ),
        now,
    )
    first, *rest = added
    first = first.model_copy(
        update={"attachments": tuple(_ref(a) for a in files), "email": origin(mail)}
    )
    return [*events, first, *rest]


def _ref(a: att.CheckedAttachment) -> AttachmentRef:
    return AttachmentRef(
        ref=a.ref, filename=a.filename, media_type=a.media_type, size=len(a.content)
    )
