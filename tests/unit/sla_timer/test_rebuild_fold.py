"""sla_timer.rebuild.ClockFold re-runs the handler in memory: facts and clock inputs, the
emitted-once keys, and the timers still owed; the scheduler's breach adds its key and row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidekit.events.intake import StaffReplied
from tidekit.events.sla import SlaBreached
from tidekit.sla import load_policy
from tidemark_sla_timer.rebuild import SEQ_BASE, ClockFold

from ..notifier import samples

AT = datetime(2026, 11, 27, 16, tzinfo=UTC)


def _reply(tid: str, at: datetime) -> StaffReplied:
    return StaffReplied(tid=tid, message_id="m-1", staff_id="agent-7", visibility="public",
                        body="done", replied_at=at)  # fmt: skip


def test_a_classified_ticket_owes_its_timers_until_they_fire_or_it_is_answered() -> None:
    fold = ClockFold(load_policy())
    fold.apply_foreign(_reply("TID-1", samples.T0), AT)  # before classification: an input
    fold.apply_foreign(samples.classified("TID-1"), AT)
    fold.apply_foreign(samples.classified("TID-2"), AT)
    fold.apply_foreign(samples.classified("TID-2"), AT)  # once only
    tables = fold.take_dirty()
    assert [r[0] for r in tables["sla_tickets"][1]] == ["TID-1", "TID-2"]
    assert tables["clock_inputs"][1] == [
        (SEQ_BASE, "TID-1", samples.T0, "staff_replied", None, None, None)
    ]
    emitted = {(r[3], r[1]) for r in tables["sla_emitted"][1]}
    assert (
        "TID-1",
        "clock_met",
    ) in emitted  # the reply met TID-1's clock at once and ("TID-2", "clock_started") in emitted
    timers = {(t[3], t[1]) for t in tables["timers"][1]}
    assert timers == {("TID-2", "warning"), ("TID-2", "breach")}

    breach = next(t for t in tables["timers"][1] if t[1] == "breach")
    fold.apply_own(SlaBreached(tid="TID-2", obligation_id=breach[0], kind=breach[4],
                               level=breach[5], severity=breach[6], deadline=breach[7],
                               emitted_at=breach[2] + timedelta(seconds=2), lateness_seconds=2,
                               policy_version=breach[9]))  # fmt: skip
    tables = fold.take_dirty()
    assert {(t[3], t[1]) for t in tables["timers"][1]} == {("TID-2", "warning")}
    assert [(b[0], b[8]) for b in tables["breaches"][1]] == [(breach[0], 2)]
