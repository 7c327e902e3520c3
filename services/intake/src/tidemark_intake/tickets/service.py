"""Intake's handlers: load, decide, and append events + projection + outbox in one transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import LicenseRecorded
from tidekit.events.envelope import Envelope
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidekit.web.problems import Problem
from tidekit.web.ratelimit import TokenBuckets
from tidemark_intake.settings import IntakeSettings

from . import attachments as att
from . import domain, projection, tokens
from .api_models import TicketCreate, TicketCreated
from .lifecycle import TicketState


@dataclass(frozen=True)
class SubmitResult:
    created: TicketCreated
    replayed: bool


class IntakeService:
    def __init__(self, runtime: ServiceRuntime, settings: IntakeSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.store = runtime.store
        self.introspection_limits = TokenBuckets(
            settings.introspection_per_second, settings.introspection_burst
        )

    def _token(self, tid: str, salt: str) -> str:
        return tokens.derive_token(self.settings.token_secret.get_secret_value(), tid, salt)

    def _check_limits(self, cmd: TicketCreate) -> list[att.CheckedAttachment]:
        s = self.settings
        if len(cmd.subject) > s.max_subject_chars:
            raise Problem(413, "Subject too long", f"subject exceeds {s.max_subject_chars} chars")
        if len(cmd.body) > s.max_body_chars:
            raise Problem(413, "Body too long", f"body exceeds {s.max_body_chars} characters")
        try:
            return [
                att.check(a.filename, a.content_base64, s.max_attachment_bytes)
                for a in cmd.attachments
            ]
        except att.AttachmentRefused as exc:
            raise Problem(422, "Attachment refused", str(exc)) from None

    async def submit(self, cmd: TicketCreate, idempotency_key: str | None) -> SubmitResult:
        files = self._check_limits(cmd)
        request_hash = hashlib.sha256(
            json.dumps(cmd.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()
        pool = self.runtime.require_pool()
        async with pool.acquire() as conn, conn.transaction():
            if idempotency_key is not None:
                replay = await self._claim_key(conn, idempotency_key, request_hash)
                if replay is not None:
                    return SubmitResult(replay, replayed=True)
            tid = f"TID-{await conn.fetchval('SELECT nextval($1)', 'tid_seq')}"
            salt = tokens.new_salt()
            token = self._token(tid, salt)
            submitted = domain.decide_submit(tid, cmd, files, self.runtime.clock.now())
            await self.store.append(conn, tid, 0, [submitted])
            await projection.store_attachments(conn, files)
            await projection.insert_ticket(conn, submitted, salt, tokens.token_hash(token))
            if idempotency_key is not None:
                await conn.execute(
                    "UPDATE idempotency_keys SET tid = $2 WHERE key = $1", idempotency_key, tid
                )
        self.runtime.wake_relay()
        return SubmitResult(TicketCreated(tid=tid, access_token=token, status="new"), False)

    async def _claim_key(
        self, conn: asyncpg.Connection, key: str, request_hash: str
    ) -> TicketCreated | None:
        """None when the key is new (now claimed by this transaction), else the earlier answer.

        A concurrent request with the same key blocks on the insert until this one commits,
        then sees the row: one ticket, never two.
        """
        claimed = await conn.fetchval(
            """INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2)
               ON CONFLICT DO NOTHING RETURNING true""",
            key,
            request_hash,
        )
        if claimed:
            return None
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
        await projection.record_foreign(conn, envelope)
        await projection.apply_foreign(conn, event)
        if envelope.type == "ticket.classified":
            await self._open_after_classification(uow, event.stream_id())

    async def _open_after_classification(self, uow: UnitOfWork, tid: str) -> None:
        conn = uow.conn
        status = await conn.fetchval("SELECT status FROM tickets WHERE tid = $1 FOR UPDATE", tid)
        if status is None:
            return  # not one of ours (e.g. a ticket from before a reset)
        version = await self.store.stream_version(conn, tid)
        state = TicketState(tid=tid, status=status, version=version)
        events = domain.decide_open_after_classification(state, uow.now())
        if events:
            uow.append(tid, version, events)
            for e in events:
                await projection.apply_own(conn, e)
