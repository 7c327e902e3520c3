"""The chaos run in small (issue 19), inside `make test`: 300 tickets on its own stack (one
Kafka node, one process per service), each service SIGKILLed once and Kafka stopped once
while they are sent; then every invariant of `make chaos`, judged the same way.

It starts its own PostgreSQL, Kafka and services (under <state>/test-chaos), so it moves no
clock and kills nothing the other tests use; it takes about four minutes on two cores."""

from __future__ import annotations

import pytest

from tests.chaos.report import table
from tests.chaos.run import ChaosConfig, run

pytestmark = pytest.mark.e2e

SMALL = ChaosConfig(
    seed=19,
    tickets=300,
    rate=3.0,
    brokers=1,
    replicas=1,
    target="1m",
    kafka_outage=10.0,
    postgres_restart=False,
    pause=False,
    name="test-chaos",
)


def test_300_tickets_while_each_service_is_killed_and_kafka_stops_keep_every_invariant() -> None:
    outcome = run(SMALL)
    report = table(outcome)
    print(report)
    injected = sorted(f"{r.fault.kind} {r.fault.target}".strip() for r in outcome.faults)
    assert injected == [
        "kafka-outage",
        "kill-service classifier",
        "kill-service escalation",
        "kill-service intake",
        "kill-service notifier",
        "kill-service sla-timer",
    ], report
    assert all(r.recovered_s is not None for r in outcome.faults), report
    assert outcome.load.replies > 0 and outcome.load.holds > 0, report  # met and paused clocks
    assert outcome.ok, report
