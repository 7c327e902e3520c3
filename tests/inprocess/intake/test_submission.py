"""A new ticket over the API is one statement on the database (its Idempotency-Key claim,
first event, outbox row and read-model row together), and the key still makes exactly one
ticket of any number of requests sent with it, at once or one after the other."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import ApiKeys
from tidekit.store.pool import create_pool
from tidemark_intake.app import create_app
from tidemark_intake.settings import IntakeSettings

pytestmark = pytest.mark.integration


def _ticket(subject: str = "Export is slow") -> dict[str, Any]:
    return {
        "channel": "web",
        "requester": {"email": "ada@example.com", "name": "Ada"},
        "subject": subject,
        "body": "The CSV export is slow since the update.",
    }


class Intake:
    def __init__(self, http: httpx.AsyncClient, pool: asyncpg.Pool, keys: ApiKeys) -> None:
        self.http, self.pool, self.keys = http, pool, keys
        self.statements: list[str] = []  # every statement intake's pool sent, in order

    async def post(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"X-Api-Key": self.keys.web}
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.http.post("/v1/tickets", json=body, headers=headers)

    async def count(self, sql: str, *args: Any) -> int:
        return int(await self.pool.fetchval(sql, *args))


@pytest.fixture
async def intake(intake_db: str, intake_keys: ApiKeys) -> AsyncIterator[Intake]:
    app = create_app(IntakeSettings(database_url=intake_db))
    runtime = app.state.intake.runtime
    logged: list[str] = []

    async def log_statements(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda q: logged.append(q.query))

    runtime.pool = await create_pool(
        intake_db, schema="intake", application_name="t", min_size=1, max_size=8,
        init=log_statements,
    )  # fmt: skip
    transport = httpx.ASGITransport(app=app)  # no lifespan: no Kafka, no relay, no consumers
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        desk = Intake(http, runtime.pool, intake_keys)
        desk.statements = logged
        yield desk
    await runtime.pool.close()


async def test_a_new_ticket_is_one_statement(intake: Intake) -> None:
    assert (await intake.post(_ticket(), uuid.uuid4().hex)).status_code == 201  # key, TIDs read
    intake.statements.clear()
    created = await intake.post(_ticket(), key := uuid.uuid4().hex)
    assert created.status_code == 201, created.text
    (statement,) = intake.statements  # no BEGIN, no COMMIT, no nextval: one round trip
    for table in ("idempotency_keys", "tickets", "events", "outbox"):
        assert f"INSERT INTO {table} " in statement
    tid = created.json()["tid"]
    assert await intake.count("SELECT count(*) FROM tickets WHERE tid = $1", tid) == 1
    assert await intake.count("SELECT count(*) FROM idempotency_keys WHERE tid = $1", tid) == 1
    assert await intake.count("SELECT count(*) FROM events WHERE stream_id = $1", tid) == 1
    assert (
        await intake.count(
            "SELECT count(*) FROM outbox o JOIN events e USING (event_id) WHERE e.stream_id = $1",
            tid,
        )
        == 1
    )
    assert await intake.count("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1


async def test_requests_sent_at_once_with_one_key_make_one_ticket(intake: Intake) -> None:
    key = uuid.uuid4().hex
    answers = await asyncio.gather(*(intake.post(_ticket(), key) for _ in range(8)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 7 + [201], [a.text for a in answers]
    made = {(a.json()["tid"], a.json()["access_token"]) for a in answers}
    assert len(made) == 1  # the same ticket and token in every answer
    ((tid, _),) = made
    assert all(
        a.headers.get("Idempotent-Replayed") == "true" for a in answers if a.status_code == 200
    )
    assert await intake.count("SELECT count(*) FROM events WHERE stream_id = $1", tid) == 1
    assert await intake.count("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1


async def test_a_key_reused_with_another_body_is_409_and_writes_nothing(intake: Intake) -> None:
    key = uuid.uuid4().hex
    assert (await intake.post(_ticket(), key)).status_code == 201
    tickets = await intake.count("SELECT count(*) FROM tickets")
    events = await intake.count("SELECT count(*) FROM events")
    reused = await intake.post(_ticket("Something else"), key)
    assert reused.status_code == 409, reused.text
    assert reused.json()["title"] == "Idempotency-Key reused"
    assert await intake.count("SELECT count(*) FROM tickets") == tickets
    assert await intake.count("SELECT count(*) FROM events") == events
