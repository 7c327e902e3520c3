"""The policies the classifier has run with, by version (GET /v1/policy/versions/{version}).

A classification records only its policy's version; this keeps what each version said. The
row is written once the database is up, when the version is new; a version string reused
for a different document keeps the first (versions name releases of the policy), with a
warning in the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from tidekit.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def recorder(
    version: str, document: dict[str, Any]
) -> Callable[[ServiceRuntime], Coroutine[Any, Any, None]]:
    """A runtime worker that records the policy in force, once, then ends."""

    async def record_policy_version(runtime: ServiceRuntime) -> None:
        pool = runtime.require_pool()
        async with pool.acquire() as conn:
            inserted = await conn.fetchval(
                """INSERT INTO policy_versions (version, document, first_used_at)
                   VALUES ($1, $2::jsonb, $3) ON CONFLICT (version) DO NOTHING
                   RETURNING true""",
                version,
                json.dumps(document),
                runtime.clock.now(),
            )
            if not inserted:
                stored = await stored_version(conn, version)
                if stored is not None and stored["document"] != document:
                    log.warning(
                        "policy version reused for another document; the first is kept",
                        extra={"policy_version": version},
                    )

    return record_policy_version


async def stored_version(conn: asyncpg.Connection, version: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT version, document, first_used_at FROM policy_versions WHERE version = $1",
        version,
    )
    if row is None:
        return None
    return {
        "version": row["version"],
        "first_used_at": row["first_used_at"].isoformat(),
        "document": json.loads(row["document"]),
    }
