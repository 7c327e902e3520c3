"""Which statuses pause a clock is policy data (SPEC 1.5): an sla-timer whose policy file
lists `waiting_on_customer` pauses on it, and the customer's answer ends the wait. (The
default policy, where it does not pause, is in test_clocks.)

The clock starts on Friday 2026-11-20 10:00 UTC; commercial/high is 1 h on 24x7."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml

from tidekit.sla import load_policy

from . import upstream as up
from .conftest import StartTimer, utc

M = timedelta(minutes=1)


async def test_waiting_on_customer_pauses_when_the_policy_lists_it(
    start_timer: StartTimer, tmp_path: Path
) -> None:
    data = load_policy().model_dump()
    data["version"] = "test-waiting-pauses"
    data["pausing_statuses"] = ["on_hold", "waiting_on_customer"]
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(data))
    timer = await start_timer(policy_file=policy_file)

    tid, t = up.new_tid(), timer.now()
    await timer.deliver(*up.waited_on_customer(tid, t))
    assert await timer.types(tid) == [
        "sla.clock_started",
        "sla.clock_paused",
        "sla.clock_resumed",
        "sla.clock_met",
    ]
    events = dict(await timer.events(tid))
    assert utc(events["sla.clock_paused"]["paused_at"]) == t + 10 * M
    resumed, met = events["sla.clock_resumed"], events["sla.clock_met"]
    assert utc(resumed["resumed_at"]) == t + 40 * M
    assert utc(resumed["deadline"]) == utc(met["deadline"]) == t + 90 * M  # 30 min waiting
    assert resumed["policy_version"] == met["policy_version"] == "test-waiting-pauses"
