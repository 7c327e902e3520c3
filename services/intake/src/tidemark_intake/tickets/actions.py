"""Commands on an existing ticket: load its stream, decide, append, project — one transaction.

Concurrent writers to one ticket meet at the event store's expected version: the loser's
transaction is rolled back whole and run again on the new state, so two simultaneous
replies both land, one after the other.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.events.intake import (
    CredentialsDestroyed,
    CredentialsStored,
    TicketClosed,
    TicketResolved,
)
from tidekit.runtime import ServiceRuntime
from tidekit.sla import Calendar, Policy
from tidekit.store.eventstore import ConcurrencyConflict
from tidekit.web.problems import Problem
from tidemark_intake.vault.crypto import Sealed, Vault

from . import lifecycle, projection, resolution
from .lifecycle import Command, IllegalTransition, TicketState

MAX_ATTEMPTS = 8
# A decision on the ticket's state, the time, and the calendar its resolution time counts on.
Decider = Callable[[TicketState, datetime, Calendar], list[DomainEvent]]


@dataclass(frozen=True)
class ActionOutcome:
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
        self.store = runtime.store
        self.vault = vault
        self.policy = policy  # the SLA policy, for the calendar of a resolution time

    async def _load(self, conn: asyncpg.Connection, tid: str) -> TicketState:
        state = TicketState(tid=tid, status="new", version=0)
        for stored in await self.store.read_stream(conn, tid):
            state = lifecycle.evolve(state, stored.envelope.decode(registry))
        return state

    async def perform(
        self,
        tid: str,
        command: Command,
        also_write: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
    ) -> ActionOutcome:
        """Run a lifecycle command; `also_write` joins the same transaction (e.g. files)."""
        return await self._retrying(
            tid,
            lambda state, now, calendar: lifecycle.decide(state, command, now, calendar),
            also_write,
        )

    async def _retrying(
        self,
        tid: str,
        decide: Decider,
        also_write: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
    ) -> ActionOutcome:
        pool = self.runtime.require_pool()
        for _ in range(MAX_ATTEMPTS):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    # Writers to one ticket queue on its row instead of colliding; the
                    # expected version below still guards writers that skip this lock.
                    row = await conn.fetchrow(
                        "SELECT level, severity FROM tickets WHERE tid = $1 FOR UPDATE", tid
                    )
                    level, severity = (row["level"], row["severity"]) if row else (None, None)
                    calendar = resolution.calendar_for(self.policy, level, severity)
                    state = await self._load(conn, tid)
                    now = self.runtime.clock.now()
                    try:
                        events = decide(state, now, calendar)
                    except IllegalTransition as exc:
                        raise Problem(
                            409,
                            "Not allowed in this status",
                            str(exc),
                            ticket_status=exc.status,
                            allowed=sorted(exc.allowed),
                        ) from None
                    if finishing(events):
                        events += await self._destroy_vault(conn, tid, now)
                    await self.store.append(conn, tid, state.version, events)
                    for event in events:
                        await projection.apply_own(conn, event)
                        state = lifecycle.evolve(state, event)
                    if also_write is not None:
                        await also_write(conn)
                self.runtime.wake_relay()
                return ActionOutcome(tid, state.status, state.version, tuple(events))
            except ConcurrencyConflict:
                await asyncio.sleep(random.uniform(0.005, 0.05))
        raise Problem(
            503, "Busy ticket", "too many simultaneous changes; retry", headers={"Retry-After": "1"}
        )

    async def _destroy_vault(
        self, conn: asyncpg.Connection, tid: str, now: datetime
    ) -> list[DomainEvent]:
        refs = [
            r["ref"]
            for r in await conn.fetch("DELETE FROM credentials WHERE tid = $1 RETURNING ref", tid)
        ]
        if not refs:
            return []
        email = await conn.fetchval("SELECT requester_email FROM tickets WHERE tid = $1", tid)
        return destroy_credentials(tid, sorted(refs), email, now)

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

        return await self._retrying(tid, decide, keep_secret)

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
