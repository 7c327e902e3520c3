"""How a route's failure becomes an answer: a dependency that went away is a 503 with
Retry-After (the client retries, nothing was changed), never a 500. In process, no servers."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tidekit.web.problems import install_problem_handlers

# What a route meets when Postgres restarts under it (seen in the chaos run's fast
# shutdowns): the server ends the session, and asyncpg's next use of that connection for
# COMMIT, ROLLBACK or the pool's reset fails in one of these ways.
DATABASE_WENT_AWAY = [
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is shutting down"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    ConnectionResetError(104, "Connection reset by peer"),
]


@pytest.mark.parametrize("error", DATABASE_WENT_AWAY, ids=lambda e: type(e).__name__)
async def test_a_database_that_went_away_is_a_503_with_retry_after(error: Exception) -> None:
    app = FastAPI()
    install_problem_handlers(app, retry_after=3)

    @app.post("/write")
    async def write() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.post("/write")
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "3"
    assert answer.json()["title"] == "Service unavailable"
