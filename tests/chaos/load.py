"""The load client: tickets at a steady rate, as a real frontend and real agents send them.

Every ticket carries its own Idempotency-Key; a connection error, a timeout or a 503 is
retried with the same key and body (on the next intake replica, as a load balancer would).
A request with no answer within ANSWER_WITHIN_SECONDS is given up and sent again the same
way, as a frontend's upstream timeout does: a replica that is stalled (SIGSTOP), not dead,
still accepts connections, and without a timeout every request sent to it held one of the
client's connections until it woke.
A share of tickets gets a public staff reply well before its deadline (the clock is met);
another share is put on hold and resumed, never answered (the clock breaches later); the
rest are never answered (they breach). Every HTTP answer is counted by route and status."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

Action = Literal["reply", "hold", "none"]
GIVE_UP_SECONDS = 240.0  # a frontend that cannot get an answer this long reports a failure
ANSWER_WITHIN_SECONDS = 5.0  # one attempt's upstream timeout (a busy intake answers in < 1 s)


@dataclass
class TicketPlan:
    index: int
    key: str
    action: Action
    delay: float  # seconds after the 201: the reply, or the hold

    def body(self) -> dict[str, Any]:
        return {
            "channel": "web",
            "requester": {"email": f"chaos-{self.index}@example.com", "name": "Chaos"},
            "subject": f"Chaos ticket {self.index}",
            "body": "The export stops half way since this morning.",
            "severity_hint": "medium",
        }


def plan_tickets(count: int, rng: random.Random, reply_share: float, hold_share: float
                 ) -> list[TicketPlan]:  # fmt: skip
    plans = []
    for i in range(count):
        draw = rng.random()
        action: Action = "reply" if draw < reply_share else (
            "hold" if draw < reply_share + hold_share else "none")  # fmt: skip
        plans.append(TicketPlan(i, f"chaos-{uuid.UUID(int=rng.getrandbits(128))}", action,
                                rng.uniform(5, 15)))  # fmt: skip
    return plans


@dataclass
class LoadResult:
    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (route, status|error)
    bad: list[str] = field(default_factory=list)  # answers no request of ours should get
    tids: dict[str, set[str]] = field(default_factory=dict)  # Idempotency-Key -> TIDs answered
    plans: dict[str, TicketPlan] = field(default_factory=dict)  # TID -> its plan
    unsent: list[str] = field(default_factory=list)  # what was given up, and why
    holds: int = 0  # on-hold and resume both accepted
    replies: int = 0
    last_created: float = 0.0  # time.monotonic() of the last 201
    slot_wait_max: float = 0.0  # longest wait of a request for a free connection (s)
    slot_wait_max_at: float = 0.0  # when that wait began, seconds into the load

    def classes(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (_route, status), n in self.answers.items():
            out[status if not status.isdigit() else status[0] + "xx"] += n
        return out


# route -> statuses a request of ours may get besides 503 (with Retry-After)
ACCEPTED = {"create": {201, 200}, "reply": {201}, "status": {200, 409}}


# Requests in flight at most, as a frontend's connection pool allows. The rest wait here,
# not in httpx's pool: httpcore scans every queued request against every connection each
# time one changes state, so thousands queued there (intake slowed by a fault while the
# rate goes on) made the client spend all its CPU on that scan and send next to nothing
# (seed 23: no ticket created for 20 minutes after the leader broker's kill).
MAX_IN_FLIGHT = 200


class LoadClient:
    def __init__(
        self,
        intake_urls: list[str],
        frontend_key: str,
        agent_key: str,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        answer_within: float = ANSWER_WITHIN_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = intake_urls
        self.frontend = {"X-Api-Key": frontend_key}
        self.agent = {"X-Api-Key": agent_key}
        self.result = LoadResult()
        self._began = time.monotonic()  # the load's start (run() sets it again)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self.waiting = 0  # requests waiting now for one of the connections
        self.answer_within = answer_within
        limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=50)
        # No httpx timeout: `answer_within` bounds each whole attempt (see _send)
        self.http = httpx.AsyncClient(timeout=None, limits=limits, transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def _send(self, route: str, path: str, body: dict[str, Any], headers: dict[str, str],
                    turn: int) -> httpx.Response | None:  # fmt: skip
        """POST until an answer that is not 'try again'; None when given up."""
        started, attempt, pause = time.monotonic(), 0, 0.2
        while time.monotonic() - started < GIVE_UP_SECONDS:
            url = self.urls[(turn + attempt) % len(self.urls)] + path
            attempt += 1
            try:
                asked = time.monotonic()
                self.waiting += 1
                try:
                    await self._in_flight.acquire()
                finally:
                    self.waiting -= 1
                try:
                    waited = time.monotonic() - asked
                    if waited > self.result.slot_wait_max:
                        self.result.slot_wait_max = waited
                        self.result.slot_wait_max_at = asked - self._began
                    # asyncio's timeout, not httpx's: it bounds the whole attempt on any
                    # transport (the unit tests' in-process one has no timeouts of its own)
                    async with asyncio.timeout(self.answer_within):
                        response = await self.http.post(url, json=body, headers=headers)
                finally:
                    self._in_flight.release()
            except (httpx.TransportError, TimeoutError) as exc:  # refused, reset, no answer
                label = "NoAnswerWithin" if isinstance(exc, TimeoutError) else type(exc).__name__
                self.result.answers[(route, label)] += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            code = response.status_code
            self.result.answers[(route, str(code))] += 1
            if code == 503:
                if "retry-after" not in response.headers:
                    self.result.bad.append(f"{route} {path}: 503 without Retry-After")
                retry = response.headers.get("retry-after", "1")
                await asyncio.sleep(min(float(retry) if retry.isdigit() else 1.0, 2.0))
                continue
            if code not in ACCEPTED[route]:
                self.result.bad.append(f"{route} {path}: {code} {response.text[:200]}")
            return response
        self.result.unsent.append(f"{route} {path}: no answer within {GIVE_UP_SECONDS:.0f}s")
        return None

    async def ticket(self, plan: TicketPlan) -> None:
        headers = {**self.frontend, "Idempotency-Key": plan.key}
        response = await self._send("create", "/v1/tickets", plan.body(), headers, plan.index)
        if response is None or response.status_code not in (200, 201):
            return
        tid = response.json()["tid"]
        self.result.tids.setdefault(plan.key, set()).add(tid)
        self.result.plans[tid] = plan
        self.result.last_created = time.monotonic()
        await asyncio.sleep(plan.delay)
        if plan.action == "reply":
            body = {"body": "Please clear the export cache and retry.", "visibility": "public"}
            answer = await self._send("reply", f"/v1/tickets/{tid}/messages", body, self.agent,
                                      plan.index)  # fmt: skip
            self.result.replies += answer is not None and answer.status_code == 201
        elif plan.action == "hold":
            if await self._status(tid, "on_hold", plan.index):
                await asyncio.sleep(15)
                self.result.holds += await self._status(tid, "open", plan.index)

    async def _status(self, tid: str, status: str, turn: int) -> bool:
        """A status change; a 409 (not classified yet: still `new`) is tried again for up to
        a minute (the classifier may be down or Kafka away)."""
        for _ in range(20):
            answer = await self._send("status", f"/v1/tickets/{tid}/status",
                                      {"status": status}, self.agent, turn)  # fmt: skip
            if answer is None:
                return False
            if answer.status_code == 200:
                return True
            await asyncio.sleep(3)
        return False

    async def run(self, plans: list[TicketPlan], rate: float) -> LoadResult:
        """Start one ticket every 1/rate s (never in a burst to catch up) and wait for all."""
        began = self._began = time.monotonic()
        tasks = []
        for plan in plans:
            await asyncio.sleep(max(began + plan.index / rate - time.monotonic(), 0))
            tasks.append(asyncio.create_task(self.ticket(plan)))
        await asyncio.gather(*tasks)
        return self.result
