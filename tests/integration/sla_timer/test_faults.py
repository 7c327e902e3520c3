"""Exactly once across a SIGKILL between emit and commit, late warnings/breaches after
downtime (none for clocks met or paused meanwhile), and a real-clock scheduler woken by a
sooner timer: what is about the process, its restart and its consumer. (Two replicas on
one database: tests/inprocess/sla_timer/test_replicas.py.)"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sla_timer.harness import Emitted, Upstream, new_tid, utc, wait_for

pytestmark = pytest.mark.integration
M = timedelta(minutes=1)


def started_all(emitted: Emitted, tids: list[str]) -> None:
    wait_for(
        lambda: emitted.query(
            "SELECT count(DISTINCT stream_id) AS n FROM sla_timer.events"
            " WHERE event_type = 'sla.clock_started' AND stream_id = ANY($1::text[])",
            tids,
        )[0]["n"],
        lambda n: n == len(tids),
    )


def test_sigkill_between_emit_and_commit_emits_once_after_restart(
    launch: Any, upstream: Upstream, emitted: Emitted, tmp_path: Path
) -> None:
    group, marker = f"k{uuid.uuid4().hex[:8]}", tmp_path / "killed-once"
    proc, timer = launch(group=group, fault_kill_before_commit=str(marker))
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    emitted.wait_types(tid, lambda ts: "sla.clock_started" in ts)
    timer.set_clock(t + 60 * M)  # warning and breach due in one claim: killed before commit
    wait_for(lambda: proc.alive, lambda alive: not alive)
    assert proc.proc.returncode == -9 and marker.exists()
    assert emitted.types(tid) == ["sla.clock_started"]  # the claim rolled back
    _, timer = launch(group=group, clock=(t + 61 * M).isoformat())
    emitted.wait_types(tid, lambda ts: "sla.breached" in ts)
    timer.set_clock(t + 3 * 60 * M)
    other = new_tid()  # a later ticket through the same process: ours is settled by then
    upstream.classified(other, timer.now() - 2 * 60 * M)
    emitted.wait_types(other, lambda ts: "sla.breached" in ts)
    assert Counter(emitted.types(tid)) == {
        "sla.clock_started": 1,
        "sla.warning": 1,
        "sla.breached": 1,
    }
    breach = dict(emitted.events(tid))["sla.breached"]
    assert breach["lateness_seconds"] == 60  # emitted at restart, marked how late
    rows = emitted.query("SELECT count(*) AS n FROM sla_timer.breaches WHERE tid = $1", tid)
    assert rows[0]["n"] == 1


def test_late_after_downtime_but_none_for_clocks_met_or_paused_meanwhile(
    launch: Any, upstream: Upstream, emitted: Emitted
) -> None:
    group = f"d{uuid.uuid4().hex[:8]}"
    proc, timer = launch(group=group)
    t = timer.now()
    met, paused, late = new_tid(), new_tid(), new_tid()
    for tid in (met, paused, late):
        upstream.classified(tid, t)
    started_all(emitted, [met, paused, late])
    proc.kill()  # down past every deadline; meanwhile one is answered, one put on hold
    upstream.staff_reply(met, t + 30 * M)
    upstream.status(paused, t + 30 * M, "on_hold")
    _, timer = launch(group=group, clock=(t + 2 * 60 * M).isoformat())
    emitted.wait_types(late, lambda ts: "sla.breached" in ts)
    emitted.wait_types(met, lambda ts: "sla.clock_met" in ts)
    emitted.wait_types(paused, lambda ts: "sla.clock_paused" in ts)
    late_events = dict(emitted.events(late))
    assert late_events["sla.warning"]["lateness_seconds"] == 75 * 60
    assert late_events["sla.breached"]["lateness_seconds"] == 60 * 60
    assert emitted.types(met) == ["sla.clock_started", "sla.clock_met"]
    assert emitted.types(paused) == ["sla.clock_started", "sla.clock_paused"]
    states = {tid: timer.sla(tid)["obligations"][0]["state"] for tid in (met, paused, late)}
    assert states == {met: "met", paused: "paused", late: "breached"}


def test_real_clock_a_new_sooner_timer_wakes_the_sleeping_scheduler(
    launch: Any, upstream: Upstream, emitted: Emitted
) -> None:
    # refill every 10 minutes: only the wake-up from the handler can make this on time
    launch(clock="system", refill_seconds="600")
    later = new_tid()
    upstream.classified(later, datetime.now(UTC))  # due in an hour: the index's head
    emitted.wait_types(later, lambda ts: "sla.clock_started" in ts)
    tid = new_tid()
    due = datetime.now(UTC) + timedelta(seconds=4)
    upstream.classified(tid, due - 60 * M)  # commercial/high: 1 h -> due in 4 s
    emitted.wait_types(tid, lambda ts: "sla.breached" in ts, timeout=30)
    breach = dict(emitted.events(tid))["sla.breached"]
    assert utc(breach["deadline"]) == due
    assert breach["lateness_seconds"] < 2.0
