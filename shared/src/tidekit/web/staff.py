"""Staff API keys in services other than intake.

Keys live in intake (SPEC 3.4: one place that creates, hashes and revokes them). Other
services ask intake's `POST /v1/introspect` (in the manner of RFC 7662) whether an
`X-Api-Key` is an active staff key and with which role, and cache the answer briefly
(`staff_key_cache_seconds`, 30 s by default: a revoked key may work that long outside
intake). When intake cannot be reached, staff routes answer 503 with Retry-After.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, Header, Request

from tidekit.errors import DependencyUnavailable
from tidekit.telemetry import current_trace_headers
from tidekit.web.problems import Problem

Role = Literal["agent", "supervisor", "admin"]
ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}
UNAUTHENTICATED = {"WWW-Authenticate": 'ApiKey header="X-Api-Key"'}


@dataclass(frozen=True)
class StaffMember:
    key_id: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"


class StaffKeys:
    """Asks intake about keys; remembers each answer for `cache_seconds`."""

    def __init__(self, intake_url: str, cache_seconds: float = 30.0, retry_after: int = 5) -> None:
        self.intake_url = intake_url.rstrip("/")
        self.cache_seconds = cache_seconds
        self.retry_after = retry_after
        self._cache: dict[str, tuple[float, StaffMember | None]] = {}
        self._client: httpx.AsyncClient | None = None

    async def lookup(self, key: str) -> StaffMember | None:
        digest = hashlib.sha256(key.encode()).hexdigest()  # never keep the key itself
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        try:
            response = await self._client.post(
                f"{self.intake_url}/v1/introspect",
                json={"key": key},
                headers=current_trace_headers(),  # intake's span joins the caller's trace
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("intake (staff keys)", self.retry_after) from exc
        body: dict[str, Any] = response.json()
        member = None
        if body.get("active") and body.get("kind") == "staff":
            member = StaffMember(body["key_id"], body["name"], body["role"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self.cache_seconds, member)
        return member

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def staff_dependency(
    keys_of: Callable[[Request], StaffKeys], at_least: Role = "agent"
) -> Callable[..., Coroutine[Any, Any, StaffMember]]:
    """A FastAPI dependency: the calling staff member with at least `at_least`, else 401/403."""

    async def require(
        request: Request,
        x_api_key: Annotated[str | None, Header(description="A staff API key (tmk_…)")] = None,
    ) -> StaffMember:
        if not x_api_key:
            raise Problem(401, "Unauthorized", "send a staff API key in X-Api-Key",
                          headers=UNAUTHENTICATED)  # fmt: skip
        member = await keys_of(request).lookup(x_api_key)
        if member is None:
            raise Problem(401, "Unauthorized", "unknown or revoked staff key",
                          headers=UNAUTHENTICATED)  # fmt: skip
        if ROLE_RANK[member.role] < ROLE_RANK[at_least]:
            raise Problem(403, "Forbidden", f"this needs a staff key with role {at_least} or above")
        return member

    return require


def staff_keys_of(request: Request) -> StaffKeys:
    keys: StaffKeys = request.app.state.staff_keys
    return keys


Staff = Annotated[StaffMember, Depends(staff_dependency(staff_keys_of))]
Supervisor = Annotated[StaffMember, Depends(staff_dependency(staff_keys_of, "supervisor"))]
