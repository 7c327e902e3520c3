"""SIGTERM (what Kubernetes sends before it kills a pod): the process shuts down cleanly
within the grace period and what it accepted is on Kafka, because the outbox relay flushes once more
after the consumers and workers have stopped and before the producer closes."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures.access import isolate_ticket_ids, make_keys
from tests.fixtures.backends import create_fresh_database
from tests.fixtures.kafka_progress import describe_groups
from tidekit.events import TOPICS

from .conftest import poll, wait_ready
from .kafka_reader import read_topics
from .test_durability import outbox_unpublished
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e

# Well inside the chart's terminationGracePeriodSeconds (30, tests/delivery checks it).
EXIT_WITHIN_SECONDS = 15.0


def test_sigterm_flushes_the_outbox_and_exits_zero_in_time(
    service_launcher: Any, database_url: str, kafka_bootstrap: str
) -> None:
    db = create_fresh_database(database_url, prefix="tidemark_sigterm")
    isolate_ticket_ids(db)
    keys = asyncio.run(make_keys(db))
    namespace = f"term{uuid.uuid4().hex[:8]}."
    # Hold the relay's lock (one relay per schema) before intake starts: its relay stands
    # by, and the accepted ticket stays in the outbox until we let go, right before
    # SIGTERM, so the publish is the shutdown's (or a last poll's).
    loop = asyncio.new_event_loop()
    holder = loop.run_until_complete(asyncpg.connect(db))
    loop.run_until_complete(holder.execute("SELECT pg_advisory_lock(hashtext('outbox:intake'))"))
    try:
        intake = service_launcher(
            "intake",
            {
                "TIDEMARK_DATABASE_URL": db,
                "TIDEMARK_TOPIC_NAMESPACE": namespace,
                "TIDEMARK_CONSUMER_GROUP_SUFFIX": "main",
            },
        )
        group = f"{namespace}tidemark.intake.main"
        wait_ready(intake.url)
        poll(lambda: describe_groups(kafka_bootstrap, [group]), lambda g: g[group] == ("Stable", 1))

        email = f"term-{uuid.uuid4().hex[:8]}@example.com"
        created = httpx.post(
            f"{intake.url}/v1/tickets",
            json=new_ticket(email),
            headers={"X-Api-Key": keys.web},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        assert outbox_unpublished(db) == 1
    finally:
        loop.run_until_complete(holder.close())  # the lock goes with the session
        loop.close()

    started = time.monotonic()
    exit_code = intake.terminate(timeout=EXIT_WITHIN_SECONDS)
    took = time.monotonic() - started
    # uvicorn (>= 0.29) raises the signal again once it has shut down cleanly, so a clean
    # exit on SIGTERM is -SIGTERM (143 in a shell); its last lines tell it from a kill.
    assert exit_code in (0, -signal.SIGTERM), f"exit code {exit_code} after {took:.1f}s"
    log_tail = intake.log_file.read_text()[-2000:]
    assert "Application shutdown complete" in log_tail and "Finished server process" in log_tail
    assert outbox_unpublished(db) == 0
    records = read_topics(kafka_bootstrap, [namespace + TOPICS["intake"]])
    submitted = [r for r in records if r.type == "ticket.submitted" and email.encode() in r.value]
    assert len(submitted) == 1
    # Its consumer left the group (no wait for a session timeout before a rebalance).
    assert describe_groups(kafka_bootstrap, [group])[group] == ("Empty", 0)
