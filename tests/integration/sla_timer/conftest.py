"""A database of its own for the sla-timer tests, and a launcher of sla-timer processes
with a manual clock, a consumer group and a topic namespace of their own (other tests'
services share Kafka; the namespace keeps each side's events from the other)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fixtures.backends import fresh_database
from tests.fixtures.system import System
from tests.integration.sla_timer.harness import Emitted, Timer, Upstream

START = "2026-11-20T10:00:00Z"  # a Friday, before any real-time ticket of the session


@pytest.fixture(scope="module")
def timer_db(_postgres: tuple[str, Any]) -> Iterator[str]:
    with fresh_database(_postgres, "tidemark_sla") as url:
        yield url


@pytest.fixture(scope="module")
def upstream(kafka_bootstrap: str) -> Upstream:
    return Upstream(kafka_bootstrap, f"ts{uuid.uuid4().hex[:8]}.")


@pytest.fixture(scope="module")
def emitted(timer_db: str) -> Emitted:
    return Emitted(timer_db)


Launch = Callable[..., tuple[Any, Timer]]


@pytest.fixture(scope="module")
def launch_kept(
    service_launcher: Any, timer_db: str, upstream: Upstream, system: System
) -> Iterator[Launch]:
    """launch(group=None, clock=START, **settings) -> (process, Timer), ready; it runs until
    the module's tests are done (it reads the session's shared topics with its own clock, so
    left running it would keep emitting for other tests' tickets)."""
    kept: list[Any] = []

    def start(group: str | None = None, clock: str = START, **settings: str) -> tuple[Any, Timer]:
        env = {
            "TIDEMARK_DATABASE_URL": timer_db,
            "TIDEMARK_CLOCK": clock if clock == "system" else f"manual:{clock}",
            "TIDEMARK_SLA_TIMER_CONSUMER_GROUP": group or f"t{uuid.uuid4().hex[:8]}",
            "TIDEMARK_SLA_TIMER_REFILL_SECONDS": "2",
            "TIDEMARK_SLA_TIMER_TOPIC_NAMESPACE": upstream.namespace,
            "TIDEMARK_INTAKE_URL": system.urls["intake"],  # it checks staff keys there
            **{f"TIDEMARK_SLA_TIMER_{k.upper()}": v for k, v in settings.items()},
        }
        proc = service_launcher("sla-timer", extra_env=env)
        kept.append(proc)
        timer = Timer(proc.url, system.keys.admin)
        timer.wait_ready()
        return proc, timer

    yield start
    for proc in kept:
        proc.kill()


@pytest.fixture
def launch(launch_kept: Launch) -> Iterator[Launch]:
    """Like launch_kept, but what the test started is killed when it ends (its scheduler
    would otherwise fire the next test's timers with its own clock)."""
    started: list[Any] = []

    def start(*args: Any, **kwargs: str) -> tuple[Any, Timer]:
        proc, timer = launch_kept(*args, **kwargs)
        started.append(proc)
        return proc, timer

    yield start
    for proc in started:
        proc.kill()
