"""The warning and breach timers a ticket's clocks need, and the event a due one fires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import tidekit.sla as sla
from tidekit.events.base import DomainEvent
from tidekit.events.sla import SlaBreached, SlaWarning
from tidekit.events.vocabulary import Level, ObligationKind, Severity

from .reconcile import EmitKey, level_of, obligation_id

TimerKind = Literal["warning", "breach"]


@dataclass(frozen=True)
class TimerRow:
    """A pending warning or breach, with what its event needs (no replay to fire it)."""

    obligation_id: str
    kind: TimerKind
    due_at: datetime
    tid: str
    ob_kind: ObligationKind
    level: Level
    severity: Severity | None
    deadline: datetime
    warning_at: datetime
    policy_version: str


def timers_for(tid: str, state: sla.TicketClocks, emitted: set[EmitKey]) -> list[TimerRow]:
    """The timers to keep pending: for each obligation with a known deadline, its warning
    and its breach unless already emitted or answered in time. A paused obligation (no
    deadline until it resumes) has none; one paused after its target was used up still
    breaches. A reply after the deadline does not undo the breach that happened first."""
    share = state.policy.warning_share
    out: list[TimerRow] = []
    for ob in state.obligations:
        deadline, warning = ob.deadline(), ob.warning_at(share)
        if deadline is None or warning is None:
            continue
        oid = obligation_id(tid, ob)
        legs: tuple[tuple[TimerKind, datetime], ...] = (("warning", warning), ("breach", deadline))
        for kind, due in legs:
            if (oid, kind, 0) in emitted or (ob.met_at is not None and ob.met_at <= due):
                continue
            out.append(
                TimerRow(
                    obligation_id=oid,
                    kind=kind,
                    due_at=due,
                    tid=tid,
                    ob_kind=ob.kind,
                    level=level_of(ob.target, state.level),
                    severity=state.severity,
                    deadline=deadline,
                    warning_at=warning,
                    policy_version=ob.target.policy_version,
                )
            )
    return out


def fire(timer: TimerRow, now: datetime) -> DomainEvent:
    """The event of a due timer, marked with how late it is emitted."""
    late = max((now - timer.due_at).total_seconds(), 0.0)
    if timer.kind == "warning":
        return SlaWarning(
            tid=timer.tid,
            obligation_id=timer.obligation_id,
            kind=timer.ob_kind,
            warning_at=timer.warning_at,
            deadline=timer.deadline,
            emitted_at=now,
            lateness_seconds=late,
            policy_version=timer.policy_version,
        )
    return SlaBreached(
        tid=timer.tid,
        obligation_id=timer.obligation_id,
        kind=timer.ob_kind,
        level=timer.level,
        severity=timer.severity,
        deadline=timer.deadline,
        emitted_at=now,
        lateness_seconds=late,
        policy_version=timer.policy_version,
    )
