"""Scale-out on one machine: two replicas of every consumer service share one consumer group
each (same database, same group name) and every ticket is still handled once.

The system here is the test's own: a fresh database, its own topic namespace (so its
consumer groups and topics are seen by nobody else) and one intake. Effects are counted
where they land: the mails in the SMTP sink and the events on the services' topics.
Breaches are not driven here (that would need the offset clock jumped on all nine
processes); the sla-timer's replicas are shown to share the clock-start work instead.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.fixtures.access import isolate_ticket_ids, make_keys
from tests.fixtures.backends import create_fresh_database
from tests.fixtures.kafka_progress import describe_groups, wait_caught_up
from tidekit.events import TOPICS

from .conftest import poll, wait_ready
from .kafka_reader import read_topics
from .test_walking_skeleton import new_ticket

pytestmark = pytest.mark.e2e

# The consumer services and the topics their main group reads (their SPEC names).
CONSUMED = {
    "classifier": ("intake",),
    "sla-timer": ("intake", "classifier", "escalation"),
    "notifier": ("intake", "classifier", "sla-timer", "escalation"),
    "escalation": ("classifier", "sla-timer"),
}
CONSUMER_SERVICES = tuple(CONSUMED)
TICKETS = 30
HANDLED = re.compile(r'^tidemark_consumer_handled_total\{consumer="([^"]+)".*\}\s+([0-9.e+]+)$')


def group_members(bootstrap: str, groups: list[str]) -> dict[str, int]:
    """Members of each consumer group once it is Stable (0 while it rebalances)."""
    described = describe_groups(bootstrap, groups)
    return {g: n if state == "Stable" else 0 for g, (state, n) in described.items()}


def handled_by(url: str, group: str) -> float:
    """The replica's tidemark_consumer_handled_total for `group`, over all event types."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(
        float(m[2]) for line in text.splitlines() if (m := HANDLED.match(line)) and m[1] == group
    )


def test_two_replicas_of_each_consumer_service_share_the_work_and_handle_each_event_once(
    service_launcher: Any, database_url: str, kafka_bootstrap: str, smtp_sink: Any
) -> None:
    db = create_fresh_database(database_url, prefix="tidemark_scale")
    isolate_ticket_ids(db)
    keys = asyncio.run(make_keys(db))
    namespace = f"scale{uuid.uuid4().hex[:8]}."
    common = {
        "TIDEMARK_DATABASE_URL": db,
        "TIDEMARK_TOPIC_NAMESPACE": namespace,
        "TIDEMARK_SERVICE_KEY": keys.service,
        # Replicas share a group: the same suffix (the launcher would give each its own).
        "TIDEMARK_CONSUMER_GROUP_SUFFIX": "main",
    }
    intake = service_launcher("intake", {**common})
    wait_ready(intake.url)
    replicas = {
        name: [service_launcher(name, {**common, "TIDEMARK_INTAKE_URL": intake.url})
               for _ in range(2)]
        for name in CONSUMER_SERVICES
    }  # fmt: skip
    for pair in replicas.values():
        for proc in pair:
            wait_ready(proc.url)
    groups = {name: f"{namespace}tidemark.{name}.main" for name in CONSUMER_SERVICES}
    # Both replicas in each group, assigned, before any ticket: else one could take it all.
    poll(
        lambda: group_members(kafka_bootstrap, list(groups.values())),
        lambda members: all(members.get(g) == 2 for g in groups.values()),
        timeout=120,
        interval=0.5,
    )

    domain = f"scale-{uuid.uuid4().hex[:8]}.example.com"
    tids: dict[str, str] = {}  # tid -> requester
    with httpx.Client(base_url=intake.url, headers={"X-Api-Key": keys.web}, timeout=10) as c:
        for n in range(TICKETS):
            email = f"user{n}@{domain}"
            response = c.post("/v1/tickets", json=new_ticket(email))
            assert response.status_code == 201, response.text
            tids[response.json()["tid"]] = email

    def ours() -> list[Any]:
        return [m for m in smtp_sink.messages() if str(m["To"]).endswith(f"@{domain}")]

    poll(ours, lambda mails: len(mails) >= TICKETS, timeout=120, interval=0.5)
    topic = {name: namespace + TOPICS[name] for name in TOPICS}
    # Everything published so far is handled by every group: nothing more can come of it.
    for name, group in groups.items():
        wait_caught_up(kafka_bootstrap, group, [topic[t] for t in CONSUMED[name]], timeout=120)

    # Each ticket acknowledged exactly once: one mail per TID, to its requester.
    mails = ours()
    subject_tids = Counter(
        t for m in mails for t in re.findall(r"\[(TID-[0-9]+)\]", str(m["Subject"]))
    )
    assert subject_tids == Counter(dict.fromkeys(tids, 1)), subject_tids
    assert len({str(m["Message-ID"]) for m in mails}) == len(mails) == TICKETS
    assert {str(m["To"]) for m in mails} == set(tids.values())

    # Each event's effect once: one ticket.classified and one sla.clock_started per TID.
    records = read_topics(kafka_bootstrap, [topic["classifier"], topic["sla-timer"]])

    def per_tid(event_type: str) -> Counter[str]:
        return Counter(
            tid
            for r in records
            if r.type == event_type
            for tid in tids
            if f'"{tid}"'.encode() in r.value
        )

    assert per_tid("ticket.classified") == Counter(dict.fromkeys(tids, 1))
    assert per_tid("sla.clock_started") == Counter(dict.fromkeys(tids, 1))

    # Both replicas of every consumer service did part of the work.
    work = {
        name: [handled_by(proc.url, groups[name]) for proc in pair]
        for name, pair in replicas.items()
    }
    assert all(min(counts) > 0 for counts in work.values()), work
    for proc in [intake, *(p for pair in replicas.values() for p in pair)]:
        proc.terminate()
