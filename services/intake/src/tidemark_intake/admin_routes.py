"""API key management for admins (the same as the `tidemark-keys` command)."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from tidekit.web.problems import Problem

from . import keys
from .action_models import KeyIn, KeyOut
from .deps import AdminCaller, Service, ServiceCaller

router = APIRouter(prefix="/v1/admin/keys", tags=["access (admin)"])
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No or unknown API key"},
    403: {"description": "Not an admin key"},
}


@router.post("", status_code=status.HTTP_201_CREATED, responses={**ERRORS, 422: {}})
async def create_key(body: KeyIn, service: Service, admin: AdminCaller) -> KeyOut:
    """Create a frontend key (with `channels`), a staff key (with `role`) or a service key
    (`service: true`); the key is in this answer only."""
    kind = body.kind
    try:
        async with service.runtime.require_pool().acquire() as conn:
            info, plaintext = await keys.create_key(
                conn, name=body.name, kind=kind, channels=list(body.channels), role=body.role
            )
    except ValueError as exc:
        raise Problem(422, "Invalid key scope", str(exc)) from None
    return KeyOut(**vars(info), key=plaintext)


@router.get("", responses=ERRORS)
async def list_keys(service: Service, admin: AdminCaller) -> list[KeyOut]:
    async with service.runtime.require_pool().acquire() as conn:
        return [KeyOut(**vars(k)) for k in await keys.list_keys(conn)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**ERRORS, 404: {}})
async def revoke_key(key_id: str, service: Service, admin: AdminCaller) -> None:
    """Revoke a key; it is refused from the next request on."""
    async with service.runtime.require_pool().acquire() as conn:
        if not await keys.revoke_key(conn, key_id):
            raise Problem(404, "Not found", f"no key {key_id}")


introspection = APIRouter(prefix="/v1", tags=["access (services)"])


class IntrospectIn(BaseModel):
    key: str = Field(max_length=200)


class IntrospectOut(BaseModel):
    """RFC 7662 in spirit: `active` false for unknown, malformed and revoked keys alike."""

    active: bool
    key_id: str | None = None
    name: str | None = None
    kind: str | None = None
    role: str | None = None
    channels: list[str] = Field(default_factory=list)


@introspection.post(
    "/introspect",
    responses={
        401: {"description": "No or unknown API key"},
        403: {"description": "Not a service key"},
        429: {"description": "Too many requests from this service key; see Retry-After"},
    },
)
async def introspect(body: IntrospectIn, service: Service, caller: ServiceCaller) -> IntrospectOut:
    """For the other services, with their service key: is this API key active, and whose is
    it? (Never the secret.) Rate limited per service key."""
    # Monotonic on purpose: a rate is real elapsed time, not business time.
    wait = service.introspection_limits.take(caller.key_id, time.monotonic())
    if wait > 0:
        raise Problem(
            429, "Too many requests", "introspection rate exceeded for this service key",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )  # fmt: skip
    async with service.runtime.require_pool().acquire() as conn:
        principal = await keys.authenticate(conn, body.key)
    if principal is None:
        return IntrospectOut(active=False)
    return IntrospectOut(
        active=True,
        key_id=principal.key_id,
        name=principal.name,
        kind=principal.kind,
        role=principal.role,
        channels=sorted(principal.channels),
    )
