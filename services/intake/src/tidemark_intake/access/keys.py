"""API keys in Postgres: create (the plain key is returned once), revoke, list, look up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from . import principals


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    kind: str
    channels: list[str]
    role: str | None
    created_at: datetime
    revoked_at: datetime | None


async def create_key(
    conn: asyncpg.Connection,
    *,
    name: str,
    kind: str,
    channels: list[str] | None = None,
    role: str | None = None,
) -> tuple[KeyInfo, str]:
    """(the stored key's description, the plain key to hand over once)."""
    channels = sorted(set(channels or []))
    principals.validate_scope(kind, channels, role)
    new = principals.generate_key()
    row = await conn.fetchrow(
        """INSERT INTO api_keys (key_id, name, kind, channels, role, secret_hash)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        new.key_id,
        name,
        kind,
        channels,
        role,
        new.secret_hash,
    )
    return _info(row), new.plaintext


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    """True when the key existed and is now revoked (revoking twice keeps the first time)."""
    result = await conn.fetchval(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
           WHERE key_id = $1 RETURNING true""",
        key_id,
    )
    return bool(result)


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    return [_info(r) for r in await conn.fetch("SELECT * FROM api_keys ORDER BY created_at")]


async def authenticate(conn: asyncpg.Connection, presented: str) -> principals.Principal | None:
    """The key's principal, or None for a malformed, unknown, wrong or revoked key."""
    parts = principals.split_key(presented)
    if parts is None:
        return None
    key_id, secret = parts
    row = await conn.fetchrow("SELECT * FROM api_keys WHERE key_id = $1", key_id)
    if row is None or row["revoked_at"] is not None:
        return None
    if not principals.secret_matches(secret, row["secret_hash"]):
        return None
    return principals.Principal(
        key_id=row["key_id"],
        name=row["name"],
        kind=row["kind"],
        channels=frozenset(row["channels"]),
        role=row["role"],
    )


def _info(row: asyncpg.Record) -> KeyInfo:
    return KeyInfo(
        key_id=row["key_id"],
        name=row["name"],
        kind=row["kind"],
        channels=list(row["channels"]),
        role=row["role"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
