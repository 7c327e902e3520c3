"""What a claim fires carries where it comes from: each ticket's warnings and breaches
begin a trace of their own (a claim fires many tickets at once) and join the chain the
ticket began with."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from . import upstream as up
from .conftest import Timer

M = timedelta(minutes=1)


async def test_one_claim_gives_each_ticket_its_own_trace_and_the_tickets_chain(
    timer: Timer,
) -> None:
    t = timer.now()
    tids = [up.new_tid() for _ in range(3)]
    for tid in tids:
        await timer.deliver(up.classified(tid, t))
    assert await timer.set_clock(t + 45 * M) == 3  # the three warnings, in one claim
    rows = await timer.pool.fetch(
        """SELECT e.stream_id, e.event_type, e.correlation_id, e.causation_id, o.headers
           FROM events e JOIN outbox o USING (event_id)
           WHERE e.stream_id = ANY($1::text[]) ORDER BY e.stream_id, e.version""",
        tids,
    )
    by_tid: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        headers = {k: base64.b64decode(v).decode() for k, v in json.loads(r["headers"])}
        by_tid.setdefault(r["stream_id"], []).append({**dict(r), "headers": headers})
    trace_ids = set()
    for tid in tids:
        started, warning = by_tid[tid]
        assert (started["event_type"], warning["event_type"]) == (
            "sla.clock_started",
            "sla.warning",
        )
        assert warning["correlation_id"] == started["correlation_id"]  # the ticket's chain
        assert warning["causation_id"] is None  # fired by time, not caused by an event
        assert warning["headers"]["ce_correlationid"] == str(started["correlation_id"])
        version, trace_id, span_id, _flags = str(warning["headers"]["traceparent"]).split("-")
        assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
        assert trace_id != started["headers"]["traceparent"].split("-")[1]
        trace_ids.add(trace_id)
    assert len(trace_ids) == 3  # a trace per ticket, though one claim fired them all
