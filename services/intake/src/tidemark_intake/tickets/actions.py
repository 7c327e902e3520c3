"""Commands on an existing ticket: one handler (`change_ticket`) loads it, decides, and
writes through `writes` in the command's unit of work.

Concurrent writers to one ticket queue on its row; one that skipped the lock meets the
event store's expected version, and the retry policy runs its command again on the new
state, so two simultaneous replies both land, one after the other.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.intake import (
    CredentialsDestroyed,
    CredentialsStored,
    TicketClosed,
    TicketResolved,
)
from tidekit.messaging.uow import UnitOfWork
from tidekit.runtime import ServiceRuntime
from tidekit.sla import Calendar, Policy
from tidekit.web.problems import Problem
from tidemark_intake.vault.crypto import Sealed, Vault

from . import lifecycle, resolution, writes
from .attachments import CheckedAttachment
from .lifecycle import Command, IllegalTransition, TicketState

# A decision on the ticket's state, the time, and the calendar its resolution time counts on.
Decider = Callable[[TicketState, datetime, Calendar], list[DomainEvent]]


@dataclass(frozen=True)
class ChangeTicket:
    """Decide on an existing ticket; `files` (a message's attachments) and `also_write`
    (e.g. a sealed secret) are written with the events."""

    tid: str
    decide: Decider
    files: Sequence[CheckedAttachment] = ()
    also_write: Callable[[asyncpg.Connection], Awaitable[None]] | None = None


@dataclass(frozen=True)
class ActionOutcome:
    """A ticket after an action: its status and version once the action's events are
    written, and those events (none when the action changed nothing)."""

    tid: str
    status: str
    version: int
    events: tuple[DomainEvent, ...]


def finishing(events: Sequence[DomainEvent]) -> bool:
    """Resolving or closing a ticket destroys the server credentials it holds."""
    return any(isinstance(e, TicketResolved | TicketClosed) for e in events)


def destroy_credentials(
    tid: str, refs: Sequence[str], requester_email: str, now: datetime
) -> list[DomainEvent]:
    return [
        CredentialsDestroyed(
            tid=tid, credentials_ref=ref, requester_email=requester_email, destroyed_at=now
        )
        for ref in refs
    ]


class TicketActions:
    def __init__(self, runtime: ServiceRuntime, vault: Vault, policy: Policy) -> None:
        self.runtime = runtime
        self.vault = vault
        self.policy = policy  # the SLA policy, for the calendar of a resolution time
        runtime.handlers.register(ChangeTicket, self.change_ticket)

    async def perform(
        self, tid: str, command: Command, files: Sequence[CheckedAttachment] = ()
    ) -> ActionOutcome:
        """Run a lifecycle command through the bus (its unit of work, the retry policy)."""

        def decide(state: TicketState, now: datetime, calendar: Calendar) -> list[DomainEvent]:
            return lifecycle.decide(state, command, now, calendar)

        outcome: ActionOutcome = await self.runtime.bus.handle(ChangeTicket(tid, decide, files))
        return outcome

    async def change_ticket(self, command: ChangeTicket, uow: UnitOfWork) -> ActionOutcome:
        tid = command.tid
        ticket = await writes.load(uow, tid)
        state = ticket.state if ticket else TicketState(tid=tid, status="new", version=0)
        level, severity = (ticket.level, ticket.severity) if ticket else (None, None)
        calendar = resolution.calendar_for(self.policy, level, severity)
        now = uow.now()
        try:
            events = command.decide(state, now, calendar)
        except IllegalTransition as exc:
            raise Problem(
                409,
                "Not allowed in this status",
                str(exc),
                ticket_status=exc.status,
                allowed=sorted(exc.allowed),
            ) from None
        if finishing(events) and ticket is not None:
            events += await self._destroy_vault(uow.conn, ticket, now)
        state = await writes.change(uow, state, events, command.files)
        if command.also_write is not None:
            await command.also_write(uow.conn)
        return ActionOutcome(tid, state.status, state.version, tuple(events))

    async def _destroy_vault(
        self, conn: asyncpg.Connection, ticket: writes.Loaded, now: datetime
    ) -> list[DomainEvent]:
        tid = ticket.state.tid
        refs = [
            r["ref"]
            for r in await conn.fetch("DELETE FROM credentials WHERE tid = $1 RETURNING ref", tid)
        ]
        if not refs:
            return []
        return destroy_credentials(tid, sorted(refs), ticket.requester_email, now)

    # --- the credentials vault -------------------------------------------------------
    async def store_credentials(self, tid: str, entries: list[dict[str, str]]) -> ActionOutcome:
        ref = f"cred_{secrets.token_urlsafe(12)}"
        kinds = tuple(sorted({e["kind"] for e in entries}))
        sealed = self.vault.seal({"entries": entries}, tid=tid, ref=ref)

        def decide(state: TicketState, now: datetime, _calendar: Calendar) -> list[DomainEvent]:
            if state.status in lifecycle.FINISHED:
                raise IllegalTransition("store credentials on", state.status, frozenset({"reopen"}))
            return [CredentialsStored(tid=tid, credentials_ref=ref, kinds=kinds, stored_at=now)]

        async def keep_secret(conn: asyncpg.Connection) -> None:
            await conn.execute(
                """INSERT INTO credentials (ref, tid, kinds, key_id, nonce, ciphertext)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                ref,
                tid,
                list(kinds),
                sealed.key_id,
                sealed.nonce,
                sealed.ciphertext,
            )

        outcome: ActionOutcome = await self.runtime.bus.handle(
            ChangeTicket(tid, decide, also_write=keep_secret)
        )
        return outcome

    async def read_credentials(self, tid: str) -> list[dict[str, object]]:
        rows = await self.runtime.require_pool().fetch(
            "SELECT * FROM credentials WHERE tid = $1 ORDER BY stored_at", tid
        )
        return [
            {
                "credentials_ref": r["ref"],
                "stored_at": r["stored_at"],
                **self.vault.open(
                    Sealed(r["key_id"], r["nonce"], r["ciphertext"]), tid=tid, ref=r["ref"]
                ),
            }
            for r in rows
        ]
