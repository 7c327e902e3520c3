"""The second yardstick: issue 16's "minimal FastAPI endpoint that writes the TID, the event
and the outbox row in one statement", as the bench runs it beside the bare app and intake.

The same request model and answer as the bare app (tests/bench/bare_app.py), one asyncpg
pool, and one statement per request: the TID from a sequence, the ticket's row, its event
and its outbox row. No API key, no Idempotency-Key, no relay and no read model: what a
durable POST costs at the least, so intake's ratio can be read against what any durable
endpoint reaches on the same machine in the same run. Its tables live in a schema of its
own (`bench_minimal`), made at start-up; nothing else reads them.

    TIDEMARK_BENCH_MINIMAL_DATABASE_URL=postgresql://... \
        python -m uvicorn --factory tests.bench.minimal_app:create_app
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI

from tidemark_intake.tickets.api_models import TicketCreate, TicketCreated

DATABASE_URL = "TIDEMARK_BENCH_MINIMAL_DATABASE_URL"
SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_minimal;
CREATE SEQUENCE IF NOT EXISTS bench_minimal.tid;
CREATE TABLE IF NOT EXISTS bench_minimal.tickets (tid text PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bench_minimal.events (
    event_id uuid PRIMARY KEY, tid text NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bench_minimal.outbox (
    id bigserial PRIMARY KEY, event_id uuid NOT NULL, topic text NOT NULL,
    value jsonb NOT NULL, published_at timestamptz);
"""
WRITE = """
WITH s AS (SELECT 'TID-' || nextval('bench_minimal.tid') AS tid),
t AS (INSERT INTO bench_minimal.tickets (tid, body) SELECT tid, $1::jsonb FROM s),
e AS (INSERT INTO bench_minimal.events (event_id, tid, data) SELECT $2::uuid, tid, $1::jsonb
      FROM s)
INSERT INTO bench_minimal.outbox (event_id, topic, value)
SELECT $2::uuid, 'tidemark.intake.v1', $1::jsonb FROM s
RETURNING (SELECT tid FROM s)
"""


def create_app() -> FastAPI:
    pools: list[asyncpg.Pool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(os.environ[DATABASE_URL], min_size=10, max_size=10)
        await pool.execute(SCHEMA)
        pools.append(pool)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/tickets", status_code=201, response_model=TicketCreated)
    async def create(body: TicketCreate) -> TicketCreated:
        tid = await pools[0].fetchval(WRITE, body.model_dump_json(), uuid.uuid4())
        return TicketCreated(tid=tid, access_token=secrets.token_urlsafe(32), status="new")

    return app
