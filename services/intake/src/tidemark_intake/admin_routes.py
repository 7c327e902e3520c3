"""API key management for admins (the same as the `tidemark-keys` command)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from tidekit.web.problems import Problem

from . import keys
from .action_models import KeyIn, KeyOut
from .deps import AdminCaller, Service

router = APIRouter(prefix="/v1/admin/keys", tags=["access (admin)"])
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No or unknown API key"},
    403: {"description": "Not an admin key"},
}


@router.post("", status_code=status.HTTP_201_CREATED, responses={**ERRORS, 422: {}})
async def create_key(body: KeyIn, service: Service, admin: AdminCaller) -> KeyOut:
    """Create a frontend key (with `channels`) or a staff key (with `role`); the key is in
    this answer only."""
    kind = "staff" if body.role else "frontend"
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


@introspection.post("/introspect")
async def introspect(body: IntrospectIn, service: Service) -> IntrospectOut:
    """For the other services: is this API key active, and whose is it? (Never the secret.)"""
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
