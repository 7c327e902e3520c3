"""API keys in Postgres: create (the plain key is returned once), revoke, list, look up.

Creating and revoking a key announce its id on the `tidemark_api_keys` channel (delivered
when the transaction commits), so every replica's key cache forgets it at once.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

from . import principals
from .key_cache import CHANNEL, KnownKey


class KeyInfo(BaseModel):
    """A stored API key as admins see it: never its secret (the admin API answers with
    this, and with the plain key once, on creation: models.KeyOut)."""

    model_config = ConfigDict(frozen=True)

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
    await _announce(conn, new.key_id)
    return _info(row), new.plaintext


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    """True when the key existed and is now revoked (revoking twice keeps the first time)."""
    result = await conn.fetchval(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
           WHERE key_id = $1 RETURNING true""",
        key_id,
    )
    if result:
        await _announce(conn, key_id)
    return bool(result)


async def _announce(conn: asyncpg.Connection, key_id: str) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, key_id)


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    return [_info(r) for r in await conn.fetch("SELECT * FROM api_keys ORDER BY created_at")]


async def load_key(conn: asyncpg.Connection | asyncpg.Pool, key_id: str) -> KnownKey | None:
    """The key with this id as stored (revoked or not), or None when there is none."""
    row = await conn.fetchrow(
        "SELECT key_id, name, kind, channels, role, secret_hash, revoked_at FROM api_keys "
        "WHERE key_id = $1",
        key_id,
    )
    if row is None:
        return None
    principal = principals.Principal(
        key_id=row["key_id"],
        name=row["name"],
        kind=row["kind"],
        channels=frozenset(row["channels"]),
        role=row["role"],
    )
    return KnownKey(principal, row["secret_hash"], revoked=row["revoked_at"] is not None)


def verify(presented_secret: str, key: KnownKey | None) -> principals.Principal | None:
    """The key's principal when it exists, is not revoked and the secret matches."""
    if key is None or key.revoked:
        return None
    if not principals.secret_matches(presented_secret, key.secret_hash):
        return None
    return key.principal


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
