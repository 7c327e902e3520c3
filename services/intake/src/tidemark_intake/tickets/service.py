"""Intake's handlers of a submission and of the other services' events; both write
through `writes`, the one write path of a ticket, in a unit of work."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import asyncpg

from tidekit.events import intake as intake_events
from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.events.classifier import LicenseRecorded
from tidekit.events.envelope import Envelope
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidekit.store.table_writes import TableWrite
from tidekit.web.problems import Problem
from tidekit.web.ratelimit import TokenBuckets
from tidemark_intake.settings import IntakeSettings

from . import attachments as att
from . import domain, projection, tokens, writes
from .api_models import TicketCreate, TicketCreated


@dataclass(frozen=True)
class SubmitResult:
    """The answer to a submission; `replayed` when an earlier request with the same
    idempotency key made the ticket, and this is its answer again."""

    created: TicketCreated
    replayed: bool


@dataclass(frozen=True)
class SubmitTicket:
    """A new ticket from the API, with its attachments already checked and the
    request's Idempotency-Key, if it sent one."""

    ticket: TicketCreate
    files: list[att.CheckedAttachment]  # checked against the limits by `check_limits`
    idempotency_key: str | None


class IntakeService:
    def __init__(self, runtime: ServiceRuntime, settings: IntakeSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.tids = writes.TidBlocks()
        self.introspection_limits = TokenBuckets(
            settings.introspection_per_second, settings.introspection_burst
        )

    def register(self) -> None:
        handlers = self.runtime.handlers
        handlers.register(SubmitTicket, self.submit, one_statement=True)
        # Every ticket event the other services publish lands in the ticket's history.
        foreign = [c.event_type for c in registry if c.__module__ != intake_events.__name__]
        handlers.register_events(foreign, self.on_foreign_event)

    def check_limits(self, cmd: TicketCreate) -> list[att.CheckedAttachment]:
        s = self.settings
        too_long = writes.over_limit(s, len(cmd.subject), len(cmd.body))
        if too_long == "subject":
            raise Problem(413, "Subject too long", f"subject exceeds {s.max_subject_chars} chars")
        if too_long == "body":
            raise Problem(413, "Body too long", f"body exceeds {s.max_body_chars} characters")
        try:
            return [
                att.check(a.filename, a.content_base64, s.max_attachment_bytes)
                for a in cmd.attachments
            ]
        except att.AttachmentRefused as exc:
            raise Problem(422, "Attachment refused", str(exc)) from None

    async def submit(self, command: SubmitTicket, uow: UnitOfWork) -> SubmitResult:
        """One round trip for a new ticket (beside a TID block now and then): its
        Idempotency-Key claim, first event, outbox row, read-model row and attachments are
        the one statement of the unit of work's flush (registered `one_statement`). A key
        already claimed fails that statement as a whole; the earlier answer is then read."""
        assert uow.one_statement, "submit is registered one_statement: its flush commits"
        cmd, key = command.ticket, command.idempotency_key
        new = await writes.new_tid(uow, self.tids, self.settings)
        submitted = domain.decide_submit(new.tid, cmd, command.files, uow.now())
        writes.open_ticket(uow, new, submitted, command.files)
        created = TicketCreated(tid=new.tid, access_token=new.access_token, status="new")
        if key is None:
            return SubmitResult(created, replayed=False)
        request_hash = hashlib.sha256(
            json.dumps(cmd.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()
        uow.stage(
            TableWrite(
                "INSERT INTO idempotency_keys (key, request_hash, tid) VALUES ($1, $2, $3)",
                (key, request_hash, new.tid),
            )
        )
        try:
            await uow.flush()
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "idempotency_keys_pkey":
                raise
            # Claimed before (a request in flight with this key blocked the insert until it
            # committed): nothing of this attempt was written.
            return SubmitResult(await self._earlier_answer(uow.conn, key, request_hash), True)
        return SubmitResult(created, replayed=False)

    async def _earlier_answer(
        self, conn: asyncpg.Connection, key: str, request_hash: str
    ) -> TicketCreated:
        """The answer given to the request that claimed `key`; 409 for another body."""
        row = await conn.fetchrow(
            """SELECT k.request_hash, k.tid, t.token_salt, t.token_hash, t.status
               FROM idempotency_keys k JOIN tickets t USING (tid) WHERE k.key = $1""",
            key,
        )
        if row is None or row["request_hash"] != request_hash:
            raise Problem(
                409,
                "Idempotency-Key reused",
                "this Idempotency-Key was already used with a different request body",
            )
        token = tokens.rederive_token(
            self.settings.token_secrets(), row["tid"], row["token_salt"], row["token_hash"]
        )
        if token is None:  # made under a secret whose rotation window has closed
            raise Problem(
                409,
                "Access token can no longer be shown",
                f"{row['tid']} was created under a retired token secret; the token handed out "
                "then still opens it",
            )
        return TicketCreated(tid=row["tid"], access_token=token, status=row["status"])

    # --- consumers: the other services' events about our tickets ----------------------
    async def on_foreign_event(self, event: DomainEvent, uow: UnitOfWork) -> None:
        conn, envelope = uow.conn, uow.cause
        assert isinstance(envelope, Envelope), "a consumed event's cause is its envelope"
        if isinstance(event, LicenseRecorded):  # the directory: who may write on a license
            await projection.record_license(conn, event)
            return
        if not (envelope.subject or "").startswith("TID-"):
            return  # not about a ticket
        uow.stage(projection.foreign_row(envelope))
        await projection.apply_foreign(conn, event, uow.stage)
        if envelope.type == "ticket.classified":
            await self._open_after_classification(uow, event.stream_id())

    async def _open_after_classification(self, uow: UnitOfWork, tid: str) -> None:
        ticket = await writes.load(uow, tid)
        if ticket is None:
            return  # not one of ours (e.g. a ticket from before a reset)
        events = domain.decide_open_after_classification(ticket.state, uow.now())
        if events:
            await writes.change(uow, ticket.state, events)
