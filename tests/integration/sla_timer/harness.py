"""Drives a real sla-timer process: upstream events into Kafka, its clock over HTTP, and
what it emitted read back from its own Postgres schema (and from Kafka)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from tests.fixtures.system import poll
from tests.inprocess.sla_timer import upstream as events
from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope
from tidekit.kafka.clients import ensure_topics

T = TypeVar("T")
OWNER = {"ticket.classified": "classifier"}  # the others sent here are intake's


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def new_tid() -> str:
    return f"TID-{uuid.uuid4().int % 10**12}"


def wait_for(fetch: Callable[[], T], until: Callable[[T], bool], timeout: float = 40.0) -> T:
    result: T = poll(fetch, until, timeout)
    return result


@dataclass
class Upstream:
    """Publishes the other services' events to their topics, as they would."""

    bootstrap: str
    namespace: str = ""  # the topic namespace of the sla-timer under test

    def topic(self, service: str) -> str:
        return self.namespace + TOPICS[service]

    def send(self, *events: DomainEvent, envelopes: Sequence[Envelope] = ()) -> list[Envelope]:
        wrapped = list(envelopes) or [
            Envelope.wrap(e, source=f"tidemark/{self.owner(e)}") for e in events
        ]
        asyncio.run(self._send(wrapped))
        return wrapped

    @staticmethod
    def owner(event: DomainEvent | Envelope) -> str:
        name = event.type if isinstance(event, Envelope) else event.event_type
        return OWNER.get(name, "intake")

    async def _send(self, envelopes: list[Envelope]) -> None:
        await ensure_topics(self.bootstrap, [self.topic(s) for s in TOPICS], partitions=3)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for env in envelopes:
                key, value, headers = env.to_kafka()
                await producer.send_and_wait(
                    self.topic(self.owner(env)), value=value, key=key, headers=headers
                )
        finally:
            await producer.stop()

    # --- the events, with defaults (built as the in-process tests build them) ------------
    def classified(
        self,
        tid: str,
        at: datetime,
        level: str = "commercial",
        severity: str | None = "high",
        entitlement: str = "active",
    ) -> list[Envelope]:
        return self.send(events.classified(tid, at, level, severity, entitlement))

    def staff_reply(self, tid: str, at: datetime, visibility: str = "public") -> list[Envelope]:
        return self.send(events.staff_reply(tid, at, visibility))

    def status(self, tid: str, at: datetime, to: str, frm: str = "open") -> list[Envelope]:
        return self.send(events.status(tid, at, to, frm))


@dataclass
class Emitted:
    """The sla-timer's own event store, read directly."""

    database_url: str

    def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.database_url)
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        return asyncio.run(run())

    def events(self, tid: str) -> list[tuple[str, dict[str, Any]]]:
        import json

        rows = self.query(
            "SELECT event_type, data FROM sla_timer.events WHERE stream_id = $1 ORDER BY version",
            tid,
        )
        return [(r["event_type"], json.loads(r["data"])) for r in rows]

    def types(self, tid: str) -> list[str]:
        return [t for t, _ in self.events(tid)]

    def wait_types(
        self, tid: str, until: Callable[[list[str]], bool], timeout: float = 40
    ) -> list[str]:
        return wait_for(lambda: self.types(tid), until, timeout)


class Timer:
    """HTTP client of one sla-timer process with a manual clock, with an admin's key."""

    def __init__(self, url: str, staff_key: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10.0, headers={"X-Api-Key": staff_key})

    def now(self) -> datetime:
        return utc(self.http.get("/v1/admin/clock").json()["now"])

    def set_clock(self, instant: datetime) -> None:
        response = self.http.put("/v1/admin/clock", json={"now": instant.isoformat()})
        assert response.status_code == 200, response.text

    def advance(self, by: timedelta) -> None:
        self.set_clock(self.now() + by)

    def sla(self, tid: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/tickets/{tid}/sla")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> int:
            try:
                return self.http.get("/readyz").status_code
            except httpx.HTTPError:
                return 0

        wait_for(ready, lambda code: code == 200, timeout)
