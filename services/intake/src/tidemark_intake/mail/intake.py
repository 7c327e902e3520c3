"""Inbound e-mail, the shell around parser.py and rules.py: one raw RFC 5322 message
in (from the SMTP listener or POST /v1/inbound/email), one recorded outcome out.

Accepted mail is durable when this returns: its events, projection, outbox row and its
`inbound_mail` row commit in one transaction. Refused and ignored mail is recorded in
`inbound_mail` with the reason. A database outage raises (SMTP answers 451, HTTP 503), so the
sender keeps the message and tries again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg

from tidekit.events.intake import TicketSubmitted
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidemark_intake.settings import IntakeSettings
from tidemark_intake.tickets import attachments as att
from tidemark_intake.tickets import writes

from . import parser, rules
from .parser import InboundMail

log = logging.getLogger(__name__)
Via = Literal["smtp", "http"]
MailOutcome = Literal["created", "appended", "duplicate", "ignored", "refused"]
Refusal = Literal["malformed", "attachment", "too_large"]
EXCERPT_BYTES = 64 * 1024


@dataclass(frozen=True)
class AcceptMail:
    """A mail that passed the checks, to become a ticket or a message on one."""

    mail: InboundMail
    files: Sequence[att.CheckedAttachment]
    key: str  # its de-duplication key
    raw: bytes
    via: Via
    envelope_from: str | None


@dataclass(frozen=True)
class MailResult:
    """What became of an inbound mail, for both doors (the SMTP reply and the HTTP
    gateway's answer): the ticket it made or joined, or why it made none."""

    outcome: MailOutcome
    reason: str | None = None
    tid: str | None = None
    refusal: Refusal | None = None
    access_token: str | None = None  # for a ticket this mail created

    def smtp_reply(self) -> str:
        """The SMTP answer: 250 for what we keep (or drop on purpose), 5xx with the reason
        for what the sender must fix (their MTA bounces it back to them)."""
        if self.outcome == "created":
            return f"250 2.0.0 Accepted as new ticket {self.tid}"
        if self.outcome == "appended":
            return f"250 2.0.0 Accepted on ticket {self.tid}"
        if self.outcome == "duplicate":
            return f"250 2.0.0 Already received (ticket {self.tid})"
        if self.outcome == "ignored":
            return f"250 2.0.0 Accepted, no ticket: {_one_line(self.reason)}"
        code = "552 5.3.4" if self.refusal == "too_large" else "554 5.6.0"
        return f"{code} Refused: {_one_line(self.reason)}"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:400]


class MailIntake:
    def __init__(
        self, runtime: ServiceRuntime, settings: IntakeSettings, tids: writes.TidBlocks
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.tids = tids  # the replica's TIDs, shared with the API's submissions
        runtime.handlers.register(AcceptMail, self.accept)

    async def receive(self, raw: bytes, via: Via, envelope_from: str | None = None) -> MailResult:
        s = self.settings
        pool = self.runtime.require_pool()
        if len(raw) > s.max_mail_bytes:
            reason = f"the message is larger than the limit of {s.max_mail_bytes} bytes"
            return await self.refuse(pool, raw, via, envelope_from, "too_large", reason)
        try:
            mail = parser.parse(raw, s.max_mail_header_bytes)
        except parser.MalformedMail as exc:
            return await self.refuse(pool, raw, via, envelope_from, "malformed", str(exc))
        loop = rules.loop_reason(mail, s.own_message_id_domain)
        if loop is None and mail.message_id and await self._our_notification(pool, mail):
            loop = f"our own message (Message-ID {mail.message_id})"
        if loop is not None:
            result = MailResult("ignored", loop)
            await self._record(pool, result, raw, via, envelope_from, mail, excerpt=True)
            return result
        limit = self._over_limits(mail)
        if limit is not None:
            return await self.refuse(pool, raw, via, envelope_from, "too_large", limit, mail)
        try:
            files = rules.check_files(mail.attachments, s.max_attachment_bytes)
        except att.AttachmentRefused as exc:
            return await self.refuse(pool, raw, via, envelope_from, "attachment", str(exc), mail)
        key = rules.dedupe_key(mail, raw)
        command = AcceptMail(mail, files, key, raw, via, envelope_from)
        accepted: MailResult = await self.runtime.bus.handle(command)
        return accepted

    def _over_limits(self, mail: InboundMail) -> str | None:
        s = self.settings
        too_long = writes.over_limit(s, len(mail.subject), len(mail.body) + len(mail.quoted))
        if too_long == "subject":
            return f"the subject is longer than {s.max_subject_chars} characters"
        if too_long == "body":
            return f"the text is longer than {s.max_body_chars} characters"
        return None

    async def refuse(
        self,
        pool: asyncpg.Pool,
        raw: bytes,
        via: Via,
        envelope_from: str | None,
        refusal: Refusal,
        reason: str,
        mail: InboundMail | None = None,
    ) -> MailResult:
        result = MailResult("refused", reason, refusal=refusal)
        await self._record(pool, result, raw, via, envelope_from, mail, excerpt=True)
        log.info("inbound mail refused", extra={"via": via, "reason": reason})
        return result

    async def _record(
        self,
        conn: asyncpg.Pool | asyncpg.Connection,
        result: MailResult,
        raw: bytes,
        via: Via,
        envelope_from: str | None,
        mail: InboundMail | None,
        excerpt: bool = False,
        key: str | None = None,
    ) -> bool:
        """One row per delivery; False when an accepted row with this key already exists."""
        inserted = await conn.fetchval(
            """INSERT INTO inbound_mail (via, envelope_from, sender, message_id, subject, size,
                   outcome, reason, tid, dedupe_key, raw_excerpt)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (dedupe_key) WHERE outcome IN ('created', 'appended') DO NOTHING
               RETURNING true""",
            via,
            envelope_from,
            mail.sender if mail else None,
            mail.message_id[:998] if mail and mail.message_id else None,
            mail.subject[:998] if mail else None,
            len(raw),
            result.outcome,
            result.reason,
            result.tid,
            key,
            raw[:EXCERPT_BYTES] if excerpt else None,
        )
        return bool(inserted)

    async def _our_notification(self, pool: asyncpg.Pool, mail: InboundMail) -> bool:
        """The Message-ID of a mail the notifier sent (it publishes them in notification.sent,
        which intake keeps in foreign_events): our own message came back."""
        found = await pool.fetchval(
            """SELECT true FROM foreign_events
               WHERE event_type = 'notification.sent' AND data->>'message_id' = $1 LIMIT 1""",
            mail.message_id,
        )
        return bool(found)

    async def accept(self, command: AcceptMail, uow: UnitOfWork) -> MailResult:
        mail, files, conn = command.mail, command.files, uow.conn
        target = await self._target(uow, mail.tid) if mail.tid else None
        registered = (
            target is not None
            and target.license_key is not None
            and mail.sender != target.requester_email.lower()
            and await self._registered(conn, mail.sender, target.license_key)
        )
        route = rules.route(mail, target, registered)
        now = uow.now()
        c = command
        if isinstance(route, rules.Append):
            assert target is not None
            result = MailResult("appended", tid=route.tid)
            if not await self._record(conn, result, c.raw, c.via, c.envelope_from, mail, key=c.key):
                return await self._duplicate(conn, c.key, c.raw, c.via, c.envelope_from, mail)
            message_id = f"mail-{uuid.uuid4().hex}"
            events = rules.decide_append(target.state, mail, files, message_id, now)
            await writes.change(uow, target.state, events, files)
            return result
        new = await writes.new_tid(uow, self.tids, self.settings)
        result = MailResult(
            "created", route.not_appended_reason, tid=new.tid, access_token=new.access_token
        )
        if not await self._record(conn, result, c.raw, c.via, c.envelope_from, mail, key=c.key):
            return await self._duplicate(conn, c.key, c.raw, c.via, c.envelope_from, mail)
        license_key = await self._license_of(conn, mail.sender)
        (submitted,) = rules.decide_new_ticket(
            new.tid, mail, files, license_key, route.not_appended_reason, now
        )
        assert isinstance(submitted, TicketSubmitted)
        writes.open_ticket(uow, new, submitted, files)
        return result

    async def _duplicate(
        self,
        conn: asyncpg.Connection,
        key: str,
        raw: bytes,
        via: Via,
        envelope_from: str | None,
        mail: InboundMail,
    ) -> MailResult:
        tid = await conn.fetchval(
            """SELECT tid FROM inbound_mail
               WHERE dedupe_key = $1 AND outcome IN ('created', 'appended')""",
            key,
        )
        result = MailResult("duplicate", "this Message-ID was already received", tid=tid)
        await self._record(conn, result, raw, via, envelope_from, mail)
        return result

    async def _target(self, uow: UnitOfWork, tid: str) -> rules.ThreadTarget | None:
        ticket = await writes.load(uow, tid)
        if ticket is None:
            return None
        return rules.ThreadTarget(ticket.state, ticket.requester_email, ticket.license_key)

    async def _registered(self, conn: asyncpg.Connection, sender: str, license_key: str) -> bool:
        """A registered address of the license, as the classifier's directory recorded it
        (license.recorded). For a license intake has no record of, the requester of a ticket
        classified `active` or `expired` under it counts."""
        listed = await conn.fetch(
            "SELECT email FROM license_addresses WHERE license_key = $1", license_key
        )
        if listed:
            return sender in {r["email"] for r in listed}
        found = await conn.fetchval(
            """SELECT true FROM tickets WHERE license_key = $1 AND lower(requester_email) = $2
                   AND entitlement IN ('active', 'expired') LIMIT 1""",
            license_key,
            sender,
        )
        return bool(found)

    async def _license_of(self, conn: asyncpg.Connection, sender: str) -> str | None:
        """A new mail ticket carries its sender's license: from the directory, else the one
        the sender was last recognised under."""
        license_key: str | None = await conn.fetchval(
            "SELECT min(license_key) FROM license_addresses WHERE email = $1", sender
        )
        if license_key is None:
            license_key = await conn.fetchval(
                """SELECT license_key FROM tickets
                   WHERE lower(requester_email) = $1 AND license_key IS NOT NULL
                     AND entitlement IN ('active', 'expired')
                   ORDER BY created_at DESC LIMIT 1""",
                sender,
            )
        return license_key
