"""The ticket's SLA obligations as the sla.* events state them, step by step (pure).

`tidemark-ops timeline` shows, after each event, every obligation known so far: its kind,
its state and its deadline. The state is what the sla-timer's events have said up to that
step (started → running, paused, resumed → running, met, breached; a reply after a breach
leaves it breached, as the sla-timer and intake report it), not a recomputation against
the clock: a timeline is a history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ObligationStep:
    obligation_id: str
    kind: str
    state: str  # running | paused | met | breached
    deadline: str | None  # RFC 3339, None while paused
    warned: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)  # the fields are JSON values already

    def short(self) -> str:
        number = self.obligation_id.rsplit("/", 1)[-1]
        due = f" due {self.deadline}" if self.deadline and self.state == "running" else ""
        warned = " (warned)" if self.warned and self.state == "running" else ""
        return f"/{number} {self.kind} {self.state}{warned}{due}"


Obligations = Mapping[str, ObligationStep]


def evolve(
    known: Obligations, event_type: str, data: Mapping[str, Any]
) -> dict[str, ObligationStep]:
    """The obligations after one event; events other than sla.* change nothing."""
    after = dict(known)
    oid = data.get("obligation_id")
    if not event_type.startswith("sla.") or not isinstance(oid, str):
        return after
    current = after.get(oid)
    if event_type == "sla.clock_started":
        after[oid] = ObligationStep(oid, str(data["kind"]), "running", data["deadline"])
    elif current is None:
        return after  # an event about an obligation whose start is not in this history
    elif event_type == "sla.clock_paused":
        after[oid] = replace(current, state="paused", deadline=None)
    elif event_type == "sla.clock_resumed":
        after[oid] = replace(current, state="running", deadline=data["deadline"])
    elif event_type == "sla.target_changed":
        after[oid] = replace(current, deadline=data.get("new_deadline"))
    elif event_type == "sla.warning":
        after[oid] = replace(current, warned=True)
    elif event_type == "sla.breached":
        after[oid] = replace(current, state="breached")
    elif event_type == "sla.clock_met" and current.state != "breached":
        after[oid] = replace(current, state="met")
    return after


def steps(events: list[tuple[str, Mapping[str, Any]]]) -> list[list[ObligationStep]]:
    """For each (event type, data), the obligations known after it, by obligation number."""
    known: dict[str, ObligationStep] = {}
    out: list[list[ObligationStep]] = []
    for event_type, data in events:
        known = evolve(known, event_type, data)
        out.append(sorted(known.values(), key=lambda o: _number(o.obligation_id)))
    return out


def _number(obligation_id: str) -> int:
    tail = obligation_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
