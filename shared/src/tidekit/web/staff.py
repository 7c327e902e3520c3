"""API keys in services other than intake.

Keys live in intake (SPEC 3.4: one place that creates, hashes and revokes them). Other
services ask intake's `POST /v1/introspect` (in the manner of RFC 7662) whether an
`X-Api-Key` is active, whose it is and what it may do, and cache each answer briefly
(`staff_key_cache_seconds`, at most 5 s: a revoked key stops working on every service and
replica within that). They ask with their own service key (`TIDEMARK_SERVICE_KEY`, a key
of kind `service`): intake answers nobody else. When intake cannot be reached, or refuses
the service's own key, the routes answer 503 with Retry-After (and the service logs why).

httpx is imported when the first key is asked about, not with this module: every service
imports this one, and httpx (with the rich and pygments its command line brings) was about
0.2 s of a start-up's CPU, in processes that may never ask (the sla-timer).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request

from tidekit.errors import DependencyUnavailable
from tidekit.events.vocabulary import ROLE_RANK, Role
from tidekit.telemetry import current_trace_headers
from tidekit.web.problems import Problem, problem_responses

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
UNAUTHENTICATED = {"WWW-Authenticate": 'ApiKey header="X-Api-Key"'}
# What every route behind a key may answer besides its own results (OpenAPI `responses`).
KEYED_ROUTE_RESPONSES = problem_responses(401, 403, 422, 503)
REVOCATION_BOUND_SECONDS = 5.0  # the longest a revoked key may still work anywhere


@dataclass(frozen=True)
class KeyHolder:
    """An active API key as intake describes it: a frontend, staff or a service."""

    key_id: str
    name: str
    kind: str
    role: Role | None = None
    channels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StaffMember:
    key_id: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class StaffKeys:
    """Asks intake about keys with this service's key; remembers each answer briefly."""

    def __init__(
        self,
        intake_url: str,
        service_key: str | None,
        cache_seconds: float = REVOCATION_BOUND_SECONDS,
        retry_after: int = 5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.intake_url = intake_url.rstrip("/")
        self._service_key = service_key
        self.cache_seconds = min(cache_seconds, REVOCATION_BOUND_SECONDS)
        self.retry_after = retry_after
        self._cache: dict[str, tuple[float, KeyHolder | None]] = {}
        # The HTTP client to intake; made on first use unless one is given (in-process
        # tests hand one bound to intake's app through httpx.ASGITransport).
        self._client: httpx.AsyncClient | None = client

    async def lookup(self, key: str) -> KeyHolder | None:
        """The active key's holder, or None for an unknown, malformed or revoked key."""
        digest = hashlib.sha256(key.encode()).hexdigest()  # never keep the key itself
        return await self._cached(digest, {"key": key})

    async def still_active(self, key_id: str) -> KeyHolder | None:
        """The holder of the key with this id (checked earlier, e.g. at a sign-in) while it
        is not revoked; within the same cache bound as `lookup`."""
        return await self._cached(f"id:{key_id}", {"key_id": key_id})

    async def _cached(self, slot: str, question: dict[str, str]) -> KeyHolder | None:
        cached = self._cache.get(slot)
        # Monotonic on purpose: a cache lifetime is real elapsed time, not business time.
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        body = await self._introspect(question)
        holder = None
        if body.get("active"):
            holder = KeyHolder(
                body["key_id"], body["name"], body["kind"], body.get("role"),
                frozenset(body.get("channels") or ()),
            )  # fmt: skip
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[slot] = (time.monotonic() + self.cache_seconds, holder)
        return holder

    async def _introspect(self, question: dict[str, str]) -> dict[str, Any]:
        if not self._service_key:
            log.error("TIDEMARK_SERVICE_KEY is not set: cannot check API keys with intake")
            raise DependencyUnavailable("intake (TIDEMARK_SERVICE_KEY not set)", self.retry_after)
        import httpx  # on first use (see the module's doc); then a look-up in sys.modules

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        # The trace context too, so the introspection joins the caller's trace.
        headers = {"X-Api-Key": self._service_key, **current_trace_headers()}
        try:
            response = await self._client.post(
                f"{self.intake_url}/v1/introspect", json=question, headers=headers
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("intake (API keys)", self.retry_after) from exc
        if response.status_code in (401, 403):
            log.error("intake refused this service's key (TIDEMARK_SERVICE_KEY)")
            raise DependencyUnavailable("intake (service key refused)", self.retry_after)
        if response.status_code != 200:
            raise DependencyUnavailable("intake (API keys)", self.retry_after)
        body: dict[str, Any] = response.json()
        return body

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers=UNAUTHENTICATED)


async def _holder(request: Request, keys_of: Callable[[Request], StaffKeys],
                  x_api_key: str | None, what: str) -> KeyHolder:  # fmt: skip
    if not x_api_key:
        raise _unauthorized(f"send {what} in X-Api-Key")
    holder = await keys_of(request).lookup(x_api_key)
    if holder is None:
        raise _unauthorized("unknown or revoked API key")
    return holder


def staff_dependency(
    keys_of: Callable[[Request], StaffKeys], at_least: Role = "agent"
) -> Callable[..., Coroutine[Any, Any, StaffMember]]:
    """A FastAPI dependency: the calling staff member with at least `at_least`, else 401/403."""

    async def require(
        request: Request,
        x_api_key: Annotated[str | None, Header(description="A staff API key (tmk_…)")] = None,
    ) -> StaffMember:
        holder = await _holder(request, keys_of, x_api_key, "a staff API key")
        if holder.kind != "staff" or holder.role is None:
            raise Problem(403, "Forbidden", "this needs a staff API key")
        member = StaffMember(holder.key_id, holder.name, holder.role)
        if not member.at_least(at_least):
            raise Problem(403, "Forbidden", f"this needs a staff key with role {at_least} or above")
        return member

    return require


def channel_dependency(
    keys_of: Callable[[Request], StaffKeys], channel: str
) -> Callable[..., Coroutine[Any, Any, KeyHolder]]:
    """A FastAPI dependency: a frontend key allowed on `channel` (e.g. the mail gateway's
    `email` key for bounces), else 401/403."""

    async def require(
        request: Request,
        # A constant description: the annotation is evaluated later, without this closure.
        x_api_key: Annotated[str | None, Header(description="A frontend API key")] = None,
    ) -> KeyHolder:
        holder = await _holder(request, keys_of, x_api_key, f"a frontend key for {channel}")
        if holder.kind != "frontend" or channel not in holder.channels:
            raise Problem(403, "Forbidden", f"this needs a frontend key with the {channel} channel")
        return holder

    return require


def any_key_dependency(
    keys_of: Callable[[Request], StaffKeys],
) -> Callable[..., Coroutine[Any, Any, KeyHolder]]:
    """A FastAPI dependency: any active API key (frontend, staff or service), else 401."""

    async def require(
        request: Request,
        x_api_key: Annotated[str | None, Header(description="An API key (tmk_…)")] = None,
    ) -> KeyHolder:
        return await _holder(request, keys_of, x_api_key, "an API key")

    return require


def staff_keys_of(request: Request) -> StaffKeys:
    keys: StaffKeys = request.app.state.staff_keys
    return keys


Staff = Annotated[StaffMember, Depends(staff_dependency(staff_keys_of))]
Supervisor = Annotated[StaffMember, Depends(staff_dependency(staff_keys_of, "supervisor"))]
AnyKey = Annotated[KeyHolder, Depends(any_key_dependency(staff_keys_of))]
MailGateway = Annotated[KeyHolder, Depends(channel_dependency(staff_keys_of, "email"))]
