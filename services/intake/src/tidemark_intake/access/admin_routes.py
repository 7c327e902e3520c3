"""API key management for admins (the same as the `tidemark-keys` command)."""

from __future__ import annotations

from fastapi import APIRouter, status

from tidekit.web.problems import Problem
from tidemark_intake.deps import AdminCaller, Service

from . import keys
from .models import KeyIn, KeyOut

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
    return KeyOut(**info.model_dump(), key=plaintext)


@router.get("", responses=ERRORS)
async def list_keys(service: Service, admin: AdminCaller) -> list[KeyOut]:
    async with service.runtime.require_pool().acquire() as conn:
        return [KeyOut(**k.model_dump()) for k in await keys.list_keys(conn)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**ERRORS, 404: {}})
async def revoke_key(key_id: str, service: Service, admin: AdminCaller) -> None:
    """Revoke a key; it is refused from the next request on."""
    async with service.runtime.require_pool().acquire() as conn:
        if not await keys.revoke_key(conn, key_id):
            raise Problem(404, "Not found", f"no key {key_id}")
