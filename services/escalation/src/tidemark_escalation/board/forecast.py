"""The at-risk forecast: which waiting tickets will breach before an agent reaches them at
the queue's current serving rate. Pure.

The serving rate is how many first replies the queue gave in the recent window (a first
reply is the sla-timer's `sla.clock_met` of the ticket's first-response obligation; its
ticket.queued -> first reply pairs are the served records). Only tickets that await a
reply (a running clock) stand in line: a ticket that was answered, or whose clock is
paused on the customer, waits in its queue without taking an agent's turn. The ticket at
position k of that line (0 = next) is reached after k + 1 more replies, that is at
`now + (k + 1) / rate`. It is at risk when that is later than its deadline, while the
deadline is still ahead (one already past is breached, not at risk, but still in line).
With no reply in the window nobody is being served: every deadline inside the window is
at risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WINDOW = timedelta(hours=1)  # the recent past the serving rate is measured over


@dataclass(frozen=True)
class Waiting:
    tid: str
    deadline: datetime | None  # None: paused or no open obligation (it cannot breach now)


@dataclass(frozen=True)
class AtRisk:
    tid: str
    position: int
    deadline: datetime
    reached_at: datetime | None  # None: nobody is being served

    @property
    def short_by(self) -> timedelta | None:
        return None if self.reached_at is None else self.reached_at - self.deadline


def serving_rate(replied_at: Iterable[datetime], now: datetime, window: timedelta) -> float:
    """First replies per second over the `window` before `now`."""
    since = now - window
    served = sum(1 for at in replied_at if since < at <= now)
    return served / window.total_seconds()


def at_risk(
    waiting: Sequence[Waiting], rate: float, now: datetime, window: timedelta
) -> list[AtRisk]:
    """The tickets of `waiting` (in serving order) that will breach before being reached."""
    flagged: list[AtRisk] = []
    in_line = [t for t in waiting if t.deadline is not None]
    for position, ticket in enumerate(in_line):
        assert ticket.deadline is not None
        if ticket.deadline <= now:
            continue
        if rate <= 0:
            if ticket.deadline <= now + window:
                flagged.append(AtRisk(ticket.tid, position, ticket.deadline, None))
            continue
        reached = now + timedelta(seconds=(position + 1) / rate)
        if reached > ticket.deadline:
            flagged.append(AtRisk(ticket.tid, position, ticket.deadline, reached))
    return flagged
