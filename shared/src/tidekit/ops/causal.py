"""Causal order of a ticket's events across services (pure: no I/O).

Each service's store orders its own events; across stores only causation links them. An
event comes after the event that caused it whenever that cause is among the events given;
otherwise (no cause, or a cause from elsewhere) events go by time, then by service and
position, so the order is total and the same on every run.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimelineEvent:
    service: str
    position: int
    event_id: str
    event_type: str
    schema_version: int
    time: datetime
    causation_id: str | None
    correlation_id: str | None
    data: dict[str, Any]

    def sort_key(self) -> tuple[datetime, str, int]:
        return (self.time, self.service, self.position)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "position": self.position,
            "id": self.event_id,
            "type": self.event_type,
            "schema_version": self.schema_version,
            "time": self.time.isoformat(),
            "causation_id": self.causation_id,
            "correlation_id": self.correlation_id,
            "data": self.data,
        }


def causal_order(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """Topological order over causation (a cause before its effects), ties by time.

    Among the events whose causes are already placed, the earliest goes next. Within a
    service the store's order is kept too (a later position never precedes an earlier)."""
    by_id = {e.event_id: e for e in events}
    parents: dict[str, set[str]] = {e.event_id: set() for e in events}
    last_of_service: dict[str, TimelineEvent] = {}
    for e in sorted(events, key=lambda e: (e.service, e.position)):
        if e.causation_id in by_id and e.causation_id != e.event_id:
            parents[e.event_id].add(e.causation_id)
        previous = last_of_service.get(e.service)
        if previous is not None:
            parents[e.event_id].add(previous.event_id)
        last_of_service[e.service] = e
    children: dict[str, list[str]] = {e.event_id: [] for e in events}
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)
    waiting = {eid: len(ps) for eid, ps in parents.items()}
    ready = [(by_id[eid].sort_key(), eid) for eid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[TimelineEvent] = []
    while ready:
        _, eid = heapq.heappop(ready)
        ordered.append(by_id[eid])
        for child in children[eid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (by_id[child].sort_key(), child))
    if len(ordered) < len(events):  # a causation cycle (corrupt data): the rest by time
        placed = {e.event_id for e in ordered}
        ordered += sorted(
            (e for e in events if e.event_id not in placed), key=TimelineEvent.sort_key
        )
    return ordered
