"""The service's connection pool, and what happens to a connection between two borrowers.

asyncpg's default, on every release, sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL;`: a round trip and four commands for each unit of work, each
relay poll, each read. None of that state is ever left on a pooled connection here:

- advisory locks are transaction-scoped (`pg_advisory_xact_lock`, released at commit);
- cursors live inside a transaction (rebuild) and close with it;
- LISTEN runs on connections of their own (`ServiceRuntime.connect_dedicated`, the board's
  change hub), never on pooled ones;
- settings are `SET LOCAL` (transaction-scoped) or the pool's own `server_settings`.

So a released connection only gets asyncpg's client-side reset (an open transaction is
rolled back, listeners dropped), without the query. Code that needs session state takes a
dedicated connection; `tests/integration/test_pool.py` holds the rule.
"""

from __future__ import annotations

from typing import Any

import asyncpg


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's `reset`: nothing to undo on the server (see the module's docstring)."""


async def create_pool(
    database_url: str, *, schema: str, application_name: str, **options: Any
) -> asyncpg.Pool:
    """A pool whose connections work in `schema` and name themselves in pg_stat_activity."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        database_url,
        reset=keep_session,
        server_settings={"search_path": schema, "application_name": application_name},
        **options,
    )
    return pool
