"""`timeline TID`: the ticket's events from all five services' event stores, in causal order,
with the SLA obligations and their state after each step."""

from __future__ import annotations

import json
from typing import TextIO

import asyncpg

from tidekit.events.topics import TOPICS
from tidekit.ops.causal import TimelineEvent, causal_order
from tidekit.ops.connect import OpsSettings, database, schema_of
from tidekit.ops.obligations import steps
from tidekit.ops.records import as_table


async def ticket_events(settings: OpsSettings, tid: str) -> list[TimelineEvent]:
    found: list[TimelineEvent] = []
    async with database(settings) as conn:
        for service in TOPICS:
            schema = schema_of(service)
            try:
                rows = await conn.fetch(
                    f"""SELECT position, event_id, event_type, schema_version, occurred_at,
                               causation_id, correlation_id, data
                        FROM {schema}.events WHERE stream_id = $1 ORDER BY position""",
                    tid,
                )
            except asyncpg.UndefinedTableError:
                continue  # that service never started against this database
            found += [
                TimelineEvent(
                    service=service,
                    position=r["position"],
                    event_id=str(r["event_id"]),
                    event_type=r["event_type"],
                    schema_version=r["schema_version"],
                    time=r["occurred_at"],
                    causation_id=str(r["causation_id"]) if r["causation_id"] else None,
                    correlation_id=str(r["correlation_id"]) if r["correlation_id"] else None,
                    data=json.loads(r["data"]),
                )
                for r in rows
            ]
    return causal_order(found)


async def timeline(settings: OpsSettings, tid: str, out: TextIO, as_json: bool = False) -> int:
    events = await ticket_events(settings, tid)
    if not events:
        out.write(f"no events for {tid} in any service's event store\n")
        return 1
    after = steps([(e.event_type, e.data) for e in events])
    if as_json:
        document = [
            {**e.as_json(), "obligations": [o.as_json() for o in known]}
            for e, known in zip(events, after, strict=True)
        ]
        out.write(json.dumps(document, indent=2) + "\n")
        return 0
    index = {e.event_id: n for n, e in enumerate(events, start=1)}
    rows = [
        [
            n,
            e.time.isoformat(timespec="milliseconds"),
            e.service,
            f"{e.event_type} v{e.schema_version}",
            f"#{index[e.causation_id]}" if e.causation_id in index else "-",
            "; ".join(o.short() for o in known) or "-",
            e.event_id,
        ]
        for n, (e, known) in enumerate(zip(events, after, strict=True), start=1)
    ]
    header = ("#", "time", "service", "event", "caused by", "obligations after it", "id")
    out.write(as_table(rows, header) + "\n")
    return 0
