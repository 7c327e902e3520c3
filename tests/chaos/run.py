"""One chaos run: start the stack, send the load while the fault script runs, drain, stop
the services, gather the facts and judge them."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import asyncpg

from tidekit.ops.connect import OpsSettings
from tidekit.ops.lag import group_lags
from tidekit.sla.policy import parse_duration

from . import collect
from .checks import Check, Observed, judge
from .faults import FaultRecord, FaultRunner, plan_faults
from .load import LoadClient, LoadResult, plan_tickets
from .topology import ChaosStack

SCHEMAS = ("intake", "classifier", "sla_timer", "notifier", "escalation")


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    tickets: int = 10_000
    rate: float = 50.0
    brokers: int = 3
    replicas: int = 2
    target: str = "2m"  # every first-response target in the run's policy
    kafka_outage: float = 20.0
    postgres_restart: bool = True
    pause: bool = True  # SIGSTOP a replica 10 s
    reply_share: float = 0.5
    hold_share: float = 0.1
    name: str = "chaos"  # the state sub-folder

    @property
    def window(self) -> float:
        return self.tickets / self.rate


@dataclass
class Outcome:
    config: ChaosConfig
    faults: list[FaultRecord]
    load: LoadResult
    checks: list[Check]
    observed: Observed
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def ops_settings(stack: ChaosStack) -> OpsSettings:
    """The operators' tools pointed at the chaos stack, explicitly: the process's
    environment is left alone (pytest runs other tests in it afterwards)."""
    return OpsSettings(database_url=stack.database_url, kafka_bootstrap=stack.kafka.bootstrap)


async def _pending(stack: ChaosStack) -> dict[str, int]:
    """What is left to do: unpublished outbox rows per schema, timers not fired yet (each
    obligation met, breached or paused for good leaves none), mail not sent yet, records
    not yet handled by their consumer group. Empty: the system is quiet."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        left = {
            f"{s} outbox": await conn.fetchval(
                f"SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL"
            )
            for s in SCHEMAS
        }
        left["sla-timer timers"] = await conn.fetchval("SELECT count(*) FROM sla_timer.timers")
        left["pending mail"] = await conn.fetchval(
            "SELECT count(*) FROM notifier.notifications WHERE state = 'pending'"
        )
    finally:
        await conn.close()
    for lag in await group_lags(ops_settings(stack)):
        left[f"{lag.group} lag"] = left.get(f"{lag.group} lag", 0) + lag.lag
    return {what: n for what, n in left.items() if n}


async def _drain(stack: ChaosStack, limit: float) -> tuple[float, str]:
    """Until the system is quiet twice in a row (the last deadlines fall due meanwhile):
    (seconds waited, '' or what was still left after `limit` s)."""
    started, quiet_in_a_row, left = time.monotonic(), 0, "nothing measured"
    while quiet_in_a_row < 2:
        if time.monotonic() - started > limit:
            return time.monotonic() - started, f"after {limit:.0f}s still: {left}"
        try:
            pending = await _pending(stack)
            left = ", ".join(f"{what} {n}" for what, n in sorted(pending.items()))
            quiet_in_a_row = 0 if pending else quiet_in_a_row + 1
        except (OSError, asyncpg.PostgresError) as exc:
            left, quiet_in_a_row = repr(exc), 0
        await asyncio.sleep(2)
    return time.monotonic() - started, ""


Lags = dict[str, float | None]


async def _load_and_faults(
    stack: ChaosStack, config: ChaosConfig
) -> tuple[LoadResult, list[FaultRecord], Lags]:
    rng = random.Random(config.seed)
    plans = plan_tickets(config.tickets, rng, config.reply_share, config.hold_share)
    script = plan_faults(config.seed, config.window, config.replicas, config.kafka_outage,
                         config.brokers, config.postgres_restart, config.pause)  # fmt: skip
    print(f"fault script (seed {config.seed}):", flush=True)
    for fault in script:
        print(f"  {fault.describe()}", flush=True)
    assert stack.keys is not None
    client = LoadClient(stack.intake_urls, stack.keys.frontend, stack.keys.agent)
    runner = FaultRunner(stack, time.monotonic())
    try:
        load = asyncio.create_task(client.run(plans, config.rate))
        faults = await runner.run(script)
        # the backlog as of the last fault's recovery, handled within 60 s?
        lag = await collect.lag_recovery(stack.kafka.bootstrap, 60.0)
        result = await load
    finally:
        await client.close()
    return result, faults, lag


def run(config: ChaosConfig) -> Outcome:
    seconds: dict[str, float] = {}
    began = time.monotonic()
    stack = ChaosStack.fresh(config.name, config.brokers, config.replicas, config.target)
    try:
        stack.start()
        seconds["start"] = time.monotonic() - began
        mark = time.monotonic()
        load, faults, lag = asyncio.run(_load_and_faults(stack, config))
        seconds["load"] = time.monotonic() - mark
        target = parse_duration(config.target).total_seconds()
        seconds["drain"], left = asyncio.run(_drain(stack, target + 300))
        stack.stop_services()  # the read models must hold still for the rebuild comparison
        mark = time.monotonic()
        observed = gather(stack, config, load, faults, lag)
        observed.left_over = left
        seconds["checks"] = time.monotonic() - mark
        return Outcome(config, faults, load, judge(observed), observed, seconds)
    finally:
        stack.stop()


def gather(stack: ChaosStack, config: ChaosConfig, load: LoadResult,
           faults: list[FaultRecord], lag: dict[str, float | None]) -> Observed:  # fmt: skip
    count, keys = asyncio.run(collect.intake_rows(stack.database_url))
    acks, breach_mails = collect.sink_mails(stack.sink.mail_dir)
    obligations, breached, replied = collect.kafka_facts(stack.kafka.bootstrap)
    kills = sum(1 for r in faults if (r.fault.kind, r.fault.target) == ("kill-service", "notifier"))
    return Observed(
        tickets_sent=config.tickets,
        answered=load.tids,
        unsent=load.unsent,
        bad_answers=load.bad,
        db_ticket_count=count,
        db_keys=keys,
        acks=acks,
        breach_mails=breach_mails,
        breached=breached,
        obligations=obligations,
        replied=replied,
        notifier_kills=kills,
        dlq_records=asyncio.run(collect.dlq_records(stack.kafka.bootstrap)),
        rebuild_diffs=asyncio.run(collect.rebuild_diffs(ops_settings(stack))),
        lag_recovery=lag,
        slot_wait_max=load.slot_wait_max,
        slot_wait_max_at=load.slot_wait_max_at,
    )
