"""Which sla.* events a ticket's clocks owe, each keyed once per obligation.

Handlers replay the ticket, ask `pending_events` for everything the state implies and emit
only the keys not yet in the emitted-once table, so a redelivered or re-ordered upstream
event never emits twice and a late one fills in what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.events.sla import ClockMet, ClockPaused, ClockResumed, ClockStarted, TargetChanged
from tidekit.events.vocabulary import Level
from tidekit.literals import one_of
from tidekit.sla.names import LEVELS
from tidekit.sla.queries import open_time_spent

EmitKey = tuple[str, str, int]  # (obligation id, kind, seq)


@dataclass(frozen=True)
class Pending:
    key: EmitKey
    at: datetime
    event: DomainEvent


def obligation_id(tid: str, ob: sla.Obligation) -> str:
    return f"{tid}/{ob.number}"


def level_of(target: sla.Target, fallback: Level) -> Level:
    for leg in target.legs:
        kind, _, name = leg.source.partition(" ")
        if kind == "level":
            level = one_of(LEVELS, name)
            if level is None:  # the policy writes these sources from its own level names
                raise ValueError(f"target leg {leg.source!r} names no level")
            return level
    return fallback


def _running_from(ob: sla.Obligation, i: int) -> sla.Obligation:
    """The obligation as it stood just after its i-th running stretch began."""
    start = ob.segments[i][0]
    return replace(ob, segments=(*ob.segments[:i], (start, None)), met_at=None)


def _seconds(d: timedelta) -> int:
    return int(d.total_seconds())


def pending_events(tid: str, state: sla.TicketClocks, emitted: set[EmitKey]) -> list[Pending]:
    """started / paused / resumed / met events the state implies and `emitted` lacks, in time
    order. An obligation that starts paused (the ticket was on hold) is started when it
    first runs; warnings and breaches are the timers' (see `timers`)."""
    share = state.policy.warning_share
    out: list[Pending] = []
    for ob in state.obligations:
        oid = obligation_id(tid, ob)
        level = level_of(ob.target, state.level)
        segs = ob.segments
        for i, (start, end) in enumerate(segs):
            as_then = _running_from(ob, i)
            deadline, warning = as_then.deadline(), as_then.warning_at(share)
            if deadline is not None and warning is not None:
                if i == 0:
                    out.append(
                        Pending(
                            (oid, "clock_started", 0),
                            ob.started_at,
                            ClockStarted(
                                tid=tid,
                                obligation_id=oid,
                                kind=ob.kind,
                                level=level,
                                severity=state.severity,
                                started_at=ob.started_at,
                                deadline=deadline,
                                warning_at=warning,
                                target_seconds=_seconds(ob.target.duration),
                                calendar=ob.target.calendar.name,
                                policy_version=ob.target.policy_version,
                            ),
                        )
                    )
                if i > 0 or start > ob.started_at:
                    out.append(
                        Pending(
                            (oid, "clock_resumed", i),
                            start,
                            ClockResumed(
                                tid=tid,
                                obligation_id=oid,
                                resumed_at=start,
                                deadline=deadline,
                                warning_at=warning,
                                policy_version=ob.target.policy_version,
                            ),
                        )
                    )
            last = i == len(segs) - 1
            if end is not None and not (last and ob.met_at == end):
                out.append(
                    Pending(
                        (oid, "clock_paused", i),
                        end,
                        ClockPaused(
                            tid=tid,
                            obligation_id=oid,
                            paused_at=end,
                            elapsed_seconds=_seconds(open_time_spent(ob, end)),
                        ),
                    )
                )
        if ob.met_at is not None:
            out.append(
                Pending(
                    (oid, "clock_met", 0),
                    ob.met_at,
                    ClockMet(
                        tid=tid,
                        obligation_id=oid,
                        met_at=ob.met_at,
                        deadline=ob.deadline(),
                        elapsed_seconds=_seconds(open_time_spent(ob, ob.met_at)),
                        policy_version=ob.target.policy_version,
                    ),
                )
            )
    out.sort(key=lambda p: p.at)  # stable: started before resumed at the same instant
    return [p for p in out if p.key not in emitted]


def target_changes(
    tid: str,
    before: sla.TicketClocks | None,
    after: sla.TicketClocks,
    at: datetime,
    seq: int,
) -> list[Pending]:
    """sla.target_changed for each obligation whose target a re-classification changed
    (its deadline recomputed from its original start), keyed by the input that did it."""
    if before is None:
        return []
    old_by_number = {ob.number: ob for ob in before.obligations}
    out: list[Pending] = []
    for ob in after.obligations:
        old = old_by_number.get(ob.number)
        if old is None or old.target == ob.target:
            continue
        oid = obligation_id(tid, ob)
        out.append(
            Pending(
                (oid, "target_changed", seq),
                at,
                TargetChanged(
                    tid=tid,
                    obligation_id=oid,
                    level=level_of(ob.target, after.level),
                    severity=after.severity,
                    old_deadline=old.deadline(),
                    new_deadline=ob.deadline(),
                    old_target_seconds=_seconds(old.target.duration),
                    new_target_seconds=_seconds(ob.target.duration),
                    policy_version=ob.target.policy_version,
                    old_policy_version=old.target.policy_version,
                    changed_at=at,
                ),
            )
        )
    return out
