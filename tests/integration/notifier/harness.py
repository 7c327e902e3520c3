"""A local HTTP receiver for webhooks, and publishing events as the other services do."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import httpx
from aiokafka import AIOKafkaProducer

from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.events.envelope import Envelope

SOURCE_OF = {
    "ticket.": "intake",
    "vip_coupon.": "classifier",
    "sla.": "sla-timer",
}
CLASSIFIER_TYPES = {"ticket.classified", "ticket.reclassified"}
ESCALATION_TYPES = {"ticket.escalated", "ticket.queued"}


def service_of(event: DomainEvent) -> str:
    if event.event_type in CLASSIFIER_TYPES:
        return "classifier"
    if event.event_type in ESCALATION_TYPES:
        return "escalation"
    return next(s for prefix, s in SOURCE_OF.items() if event.event_type.startswith(prefix))


@dataclass
class Publisher:
    producer: AIOKafkaProducer
    namespace: str = ""  # the topic namespace of the notifier under test

    async def publish(self, event: DomainEvent) -> Envelope:
        service = service_of(event)
        envelope = Envelope.wrap(event, source=f"tidemark/{service}")
        await self.send(envelope, service)
        return envelope

    async def send(self, envelope: Envelope, service: str) -> None:
        """Put an envelope (new, or one sent before: a redelivery) on its service's topic."""
        key, value, headers = envelope.to_kafka()
        topic = self.namespace + TOPICS[service]
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; `fail(path, [503, ...])` answers those codes first, then 200.
    A scripted 0 answers 200 only after `slow_seconds`: later than the sender waits."""

    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    slow_seconds: float = 2.5

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, codes: list[int]) -> None:
        with self.lock:
            self.script[path] = list(codes)

    def answer(self, hit: Hit) -> int:
        with self.lock:
            self.hits.append(hit)
            codes = self.script.get(hit.path)
            return codes.pop(0) if codes else 200

    def wait_for(self, predicate: Callable[[Hit], bool], timeout: float = 120.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [h for h in self.hits if predicate(h)]
            if found:
                return found
            time.sleep(0.05)
        raise TimeoutError("no matching webhook call")

    def matching(self, predicate: Callable[[Hit], bool]) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if predicate(h)]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            code = receiver.answer(hit)
            if code == 0:
                time.sleep(receiver.slow_seconds)
                code = 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


class StaffClientOf(Protocol):
    url: str
    staff_key: str


async def poll_notifications(
    notifier: StaffClientOf,
    tid: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 120.0,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    headers = {"X-Api-Key": notifier.staff_key}
    async with httpx.AsyncClient(base_url=notifier.url, timeout=5, headers=headers) as client:
        while True:
            rows: list[dict[str, Any]] = (
                await client.get("/v1/notifications", params={"tid": tid})
            ).json()
            if until(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"notifications of {tid} never matched; last: {rows}")
            await asyncio.sleep(0.1)
