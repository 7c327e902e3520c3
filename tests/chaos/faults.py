"""The fault script: which faults, in which order, when; seeded, printed, replayable.

`plan_faults` is pure (the seed decides the order, the replica hit and the moments);
`FaultRunner` carries the plan out against a ChaosStack, one fault after the other, and
measures each recovery: the time from the fault until every service replica answers
/readyz 200 again (its database and Kafka reachable)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tidemark_devstack.services import SERVICES

from .topology import ChaosStack


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the load began
    kind: str  # kill-service | kill-leader-broker | kafka-outage | postgres-restart | pause
    target: str = ""  # the service for kill-service and pause
    replica: int = 0
    seconds: float = 0.0  # how long the outage or pause lasts

    def describe(self) -> str:
        what = f"{self.target}#{self.replica + 1}" if self.target else ""
        span = f" for {self.seconds:.0f}s" if self.seconds else ""
        return f"t+{self.at:5.1f}s {self.kind} {what}{span}".rstrip()


@dataclass
class FaultRecord:
    fault: Fault
    began: float  # seconds after the load began
    began_utc: str = ""  # HH:MM:SS, to set beside the events' and mails' times
    detail: str = ""
    recovered_s: float | None = None  # None: not back within the limit


def plan_faults(seed: int, window: float, replicas: int, kafka_outage: float, brokers: int,
                postgres_restart: bool, pause: bool) -> list[Fault]:  # fmt: skip
    """Each service SIGKILLed once, the busiest broker SIGKILLed (with more than one),
    the whole cluster stopped `kafka_outage` s, optionally Postgres restarted and a replica
    paused 10 s; in a seeded order, spread over the first 85 % of the load's `window`."""
    rng = random.Random(seed)
    kinds: list[tuple[str, str, float]] = [("kill-service", s, 0.0) for s in SERVICES]
    kinds.append(("kafka-outage", "", kafka_outage))
    if brokers > 1:
        kinds.append(("kill-leader-broker", "", 0.0))
    if postgres_restart:
        kinds.append(("postgres-restart", "", 0.0))
    if pause:
        kinds.append(("pause", rng.choice(list(SERVICES)), 10.0))
    rng.shuffle(kinds)
    step = 0.85 * window / len(kinds)
    return [
        Fault(
            round(step * i + rng.uniform(0, step * 0.3), 1),
            kind,
            target,
            rng.randrange(replicas) if target else 0,
            seconds,
        )
        for i, (kind, target, seconds) in enumerate(kinds)
    ]


async def _until_led_elsewhere(bootstrap: str, node_id: int, bound: float = 30.0) -> None:
    """Until the controller has moved every partition's leadership off the killed broker
    (the fault is a leader lost, not a broker restarted before anyone noticed); after
    `bound` seconds the fault goes on anyway, as a slow controller would make it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_leadership_moved(bootstrap, node_id), bound)


async def _leadership_moved(bootstrap: str, node_id: int) -> None:
    while True:
        with contextlib.suppress(KafkaError, OSError):
            if node_id not in await leader_counts(bootstrap):
                return
        await asyncio.sleep(0.25)


async def leader_counts(bootstrap: str) -> Counter[int]:
    """Node id -> partitions it leads, over every topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        described = await admin.describe_topics(await admin.list_topics())
    finally:
        await admin.close()
    return Counter(p["leader"] for d in described for p in d["partitions"] if p["leader"] >= 0)


@dataclass
class FaultRunner:
    stack: ChaosStack
    began: float  # time.monotonic() when the load began
    recovery_limit: float = 180.0
    records: list[FaultRecord] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.began

    async def run(self, plan: list[Fault]) -> list[FaultRecord]:
        for fault in plan:
            await asyncio.sleep(max(fault.at - self.now(), 0))
            record = FaultRecord(
                fault, round(self.now(), 1), time.strftime("%H:%M:%S", time.gmtime())
            )
            print(f"  fault  {fault.describe()}  (at t+{record.began:.1f}s)", flush=True)
            started = time.monotonic()
            record.detail = await self._inject(fault)
            record.recovered_s = await self._until_ready(started)
            back = "not back" if record.recovered_s is None else f"{record.recovered_s:.1f}s"
            print(f"         {record.detail}; all replicas ready after {back}", flush=True)
            self.records.append(record)
        return self.records

    async def _inject(self, fault: Fault) -> str:
        stack = self.stack
        if fault.kind == "kill-service":
            proc = stack.services[fault.target][fault.replica]
            pid = proc.pid
            await asyncio.to_thread(proc.kill)
            await asyncio.to_thread(proc.start)
            return f"SIGKILL pid {pid}, restarted as pid {proc.pid}"
        if fault.kind == "pause":
            proc = stack.services[fault.target][fault.replica]
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGSTOP)
            await asyncio.sleep(fault.seconds)
            os.kill(proc.pid, signal.SIGCONT)
            return f"SIGSTOP/SIGCONT pid {proc.pid}"
        if fault.kind == "kill-leader-broker":
            counts = await leader_counts(stack.kafka.bootstrap)
            node_id, led = counts.most_common(1)[0]
            node = stack.kafka.node(node_id)
            await asyncio.to_thread(node.kill)
            await _until_led_elsewhere(stack.kafka.bootstrap, node_id)
            await asyncio.to_thread(stack.kafka.start_node, node_id)
            return f"SIGKILL broker {node_id} (led {led} of {sum(counts.values())}), restarted"
        if fault.kind == "kafka-outage":
            # All at once, no controlled shutdown can finish (no quorum left): SIGKILL
            # whatever still runs after 10 s rather than wait for it.
            await asyncio.to_thread(stack.kafka.stop, 10.0)
            await asyncio.sleep(fault.seconds)
            await asyncio.to_thread(stack.kafka.start)
            return f"every Kafka node stopped {fault.seconds:.0f}s, started again"
        if fault.kind == "postgres-restart":
            await asyncio.to_thread(stack.postgres.stop, "fast")
            await asyncio.to_thread(stack.postgres.start)
            return "pg_ctl stop -m fast, start"
        raise ValueError(f"unknown fault {fault.kind}")

    async def _until_ready(self, started: float) -> float | None:
        urls = [proc.url + "/readyz" for proc in self.stack.processes()]
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() - started < self.recovery_limit:
                try:
                    answers = await asyncio.gather(*(http.get(url) for url in urls))
                    if all(a.status_code == 200 for a in answers):
                        return round(time.monotonic() - started, 1)
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        return None
