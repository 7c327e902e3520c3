"""SLA attainment per level for one month, computed from the `tidemark.sla.v1` topic alone.

An example for analytics teams (docs/analytics.md): it needs only a Kafka client and JSON,
reads the topic from the beginning to its current end, drops repeated records by their
CloudEvents id (`ce_id`), and applies the definition of attainment in docs/sla.md ("SLA
attainment"), the one escalation's SLA report (`GET /v1/reports/sla`) applies too: a test
compares the two on the same events.

    python examples/sla_attainment.py --bootstrap 127.0.0.1:9192 --month 2026-11
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass
class Obligation:
    kind: str
    level: str
    deadline: datetime | None
    met_at: datetime | None = None
    breached: bool = False


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    running: int = 0  # not yet due, or paused: left out of attainment

    @property
    def attainment(self) -> float | None:
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "attainment": self.attainment}


@dataclass
class Report:
    by_level: dict[str, dict[str, Tally]] = field(default_factory=dict)

    def tally(self, level: str, kind: str) -> Tally:
        return self.by_level.setdefault(level, {}).setdefault(kind, Tally())

    def as_json(self) -> dict[str, Any]:
        return {
            level: {kind: t.as_json() for kind, t in sorted(kinds.items())}
            for level, kinds in sorted(self.by_level.items())
        }


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def fold(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Obligation]:
    """(event type, data) in topic order → each obligation's level, last deadline, outcome."""
    obligations: dict[str, Obligation] = {}
    for event_type, data in events:
        oid = data.get("obligation_id")
        if not isinstance(oid, str):
            continue
        if event_type == "sla.clock_started":
            obligations[oid] = Obligation(data["kind"], data["level"], _time(data["deadline"]))
            continue
        ob = obligations.get(oid)
        if ob is None:
            continue  # its start is older than what the topic keeps
        if event_type == "sla.clock_paused":
            ob.deadline = None
        elif event_type == "sla.clock_resumed":
            ob.deadline = _time(data["deadline"])
        elif event_type == "sla.target_changed":
            ob.level, ob.deadline = data["level"], _time(data.get("new_deadline"))
        elif event_type == "sla.clock_met":
            ob.met_at = _time(data["met_at"])
            ob.deadline = _time(data.get("deadline")) or ob.deadline
        elif event_type == "sla.breached":
            ob.breached = True
            ob.deadline = _time(data["deadline"])
    return obligations


def attainment(
    obligations: Mapping[str, Obligation], start: datetime, end: datetime, now: datetime
) -> Report:
    report = Report()
    for ob in obligations.values():
        if ob.deadline is None:  # paused: no deadline to fall in a month yet
            continue
        if not start <= ob.deadline < end:
            continue
        tally = report.tally(ob.level, ob.kind)
        if ob.met_at is not None and ob.met_at <= ob.deadline:
            tally.met += 1
        elif ob.breached or ob.deadline <= now:
            tally.breached += 1
        else:
            tally.running += 1
    return report


async def read_topic(bootstrap: str, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """Every record from the beginning to the end the topic has now, once per ce_id."""
    # Subscribed without a group: every partition, from the beginning, nothing committed.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            raise SystemExit(f"no topic {topic} on {bootstrap}")
        ends = await consumer.end_offsets(partitions)
        seen: set[str] = set()
        records: list[tuple[str, dict[str, Any]]] = []

        async def done() -> bool:
            assigned = consumer.assignment()
            return len(assigned) == len(partitions) and all(
                [await consumer.position(tp) >= ends[tp] for tp in partitions]
            )

        while not await done():
            batches = await consumer.getmany(timeout_ms=1000)
            for batch in batches.values():
                for r in batch:
                    headers = {k: v.decode() for k, v in r.headers or ()}
                    ce_id, ce_type = headers.get("ce_id"), headers.get("ce_type")
                    if ce_id is None or ce_type is None or ce_id in seen:
                        continue  # not a Tidemark event, or a repeat
                    seen.add(ce_id)
                    records.append((ce_type, json.loads(r.value)))
        # One obligation's events share its ticket's partition, in order; across partitions
        # the order does not matter for the fold.
        return records
    finally:
        await consumer.stop()


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(x) for x in month.split("-"))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka host:port")
    parser.add_argument("--topic", default="tidemark.sla.v1")
    parser.add_argument("--month", required=True, help="YYYY-MM, in UTC")
    parser.add_argument("--as-of", help="'now' for breaches by time (RFC 3339); default: now")
    args = parser.parse_args(argv)
    start, end = month_bounds(args.month)
    now = _time(args.as_of) or datetime.now(UTC)
    events = asyncio.run(read_topic(args.bootstrap, args.topic))
    report = attainment(fold(events), start, end, now)
    print(json.dumps({"month": args.month, "as_of": now.isoformat(), **report.as_json()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
