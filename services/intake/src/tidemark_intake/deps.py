"""Request dependencies as Annotated aliases: the service, the caller, and what they may do.

Two credentials, two headers (SPEC 3.4):
- `X-Api-Key: tmk_…` — a frontend (scoped to channels) or staff (agent/supervisor/admin);
- `Authorization: Bearer <access token>` — a customer, for that one ticket only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from tidekit.events.vocabulary import CHANNELS, Channel, Role
from tidekit.literals import one_of
from tidekit.web.problems import Problem

from .access.principals import Principal
from .access.verifier import KeyVerifier
from .tickets import tokens
from .tickets.actions import TicketActions
from .tickets.service import IntakeService

UNAUTHENTICATED = {"WWW-Authenticate": 'ApiKey header="X-Api-Key", Bearer realm="tidemark"'}
NOT_FOUND_DETAIL = "no such ticket, or these credentials do not open it"


async def get_service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.intake
    return service


Service = Annotated[IntakeService, Depends(get_service)]


async def get_ticket_token(
    authorization: Annotated[str | None, Header(description="Bearer <ticket access token>")] = None,
) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


async def get_key_verifier(request: Request) -> KeyVerifier:
    verifier: KeyVerifier = request.app.state.api_keys
    return verifier


ApiKeys = Annotated[KeyVerifier, Depends(get_key_verifier)]


XApiKey = Annotated[
    str | None, Header(description="A frontend's or staff member's API key (tmk_…)")
]


async def _principal(request: Request, x_api_key: str | None) -> Principal | None:
    if x_api_key is None:
        return None
    api_keys: KeyVerifier = request.app.state.api_keys
    principal = await api_keys.authenticate(x_api_key)
    if principal is None:  # malformed, unknown and revoked keys look the same
        raise Problem(401, "Unauthorized", "unknown or revoked API key", headers=UNAUTHENTICATED)
    return principal


# Both read the header and the verifier themselves rather than through further
# dependencies: FastAPI solves each dependency on every request (its parameters, query
# and headers), and every route but the ops routes asks for a caller.
async def get_principal(request: Request, x_api_key: XApiKey = None) -> Principal | None:
    return await _principal(request, x_api_key)


async def require_principal(request: Request, x_api_key: XApiKey = None) -> Principal:
    principal = await _principal(request, x_api_key)
    if principal is None:
        raise Problem(401, "Unauthorized", "send an API key in X-Api-Key", headers=UNAUTHENTICATED)
    return principal


TicketToken = Annotated[str | None, Depends(get_ticket_token)]
MaybePrincipal = Annotated[Principal | None, Depends(get_principal)]


def _staff(at_least: Role) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
        if not principal.is_staff(at_least):
            raise Problem(403, "Forbidden", f"this needs a staff key with role {at_least} or above")
        return principal

    return check


async def _service_key(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.is_service:
        raise Problem(403, "Forbidden", "this needs a service key (tidemark-keys create --service)")
    return principal


ApiCaller = Annotated[Principal, Depends(require_principal)]
ServiceCaller = Annotated[Principal, Depends(_service_key)]
StaffCaller = Annotated[Principal, Depends(_staff("agent"))]
require_admin = _staff("admin")
AdminCaller = Annotated[Principal, Depends(require_admin)]


@dataclass(frozen=True)
class TicketAccess:
    """Who is acting on the ticket in the path: its customer, or staff."""

    tid: str
    requester_email: str
    channel: Channel
    staff: Principal | None  # None: the customer, by the ticket's access token

    @property
    def actor(self) -> str:
        return self.staff.actor if self.staff else f"customer:{self.requester_email}"


async def get_ticket_access(
    tid: str, service: Service, principal: MaybePrincipal, token: TicketToken
) -> TicketAccess:
    if principal is None and token is None:
        raise Problem(
            401,
            "Unauthorized",
            "send the ticket's access token or an API key",
            headers=UNAUTHENTICATED,
        )
    row = await service.runtime.require_pool().fetchrow(
        "SELECT tid, requester_email, channel, token_hash FROM tickets WHERE tid = $1", tid
    )
    if row is not None:
        channel = one_of(CHANNELS, row["channel"])
        if channel is None:  # the column is written from a validated TicketSubmitted
            raise ValueError(f"{tid} has an unknown channel {row['channel']!r}")
        if principal is not None and principal.is_staff():
            return TicketAccess(tid, row["requester_email"], channel, principal)
        if token is not None and tokens.token_matches(token, row["token_hash"]):
            return TicketAccess(tid, row["requester_email"], channel, None)
    # The same answer for "no such ticket" and "not yours": no existence leak.
    raise Problem(404, "Not found", NOT_FOUND_DETAIL)


TicketCaller = Annotated[TicketAccess, Depends(get_ticket_access)]


async def get_actions(request: Request) -> TicketActions:
    actions: TicketActions = request.app.state.actions
    return actions


Actions = Annotated[TicketActions, Depends(get_actions)]

# What the routes on /v1/tickets/{tid}/… can answer besides success (OpenAPI `responses`).
ILLEGAL = {"description": "Not allowed in the ticket's status (names it and what is allowed)"}
TICKET_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {},
    403: {},
    404: {"description": "No such ticket, or not yours"},
    409: ILLEGAL,
}
# What the routes that open a ticket (the API's and the mail gateway's) answer alike for a
# key that opens nothing, and while the database is down.
KEY_AND_DATABASE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown or revoked one"},
    503: {"description": "Database unreachable; retry after Retry-After seconds"},
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Same key and body return the same ticket, never a second one",
    ),
]
