"""Which statuses pause a clock is policy data (SPEC 1.5): an sla-timer whose policy file
lists `waiting_on_customer` pauses on it, and the customer's answer ends the wait. (The
default policy, where it does not pause, is in test_clocks.)

The clock starts on Friday 2026-11-20 10:00 UTC; commercial/high is 1 h on 24x7."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.sla_timer.harness import Emitted, Timer, Upstream, new_tid, utc
from tidekit.sla import load_policy

pytestmark = pytest.mark.integration
M = timedelta(minutes=1)


@pytest.fixture(scope="module")
def timer(launch_kept: Any, tmp_path_factory: pytest.TempPathFactory) -> Timer:
    data = load_policy().model_dump()
    data["version"] = "test-waiting-pauses"
    data["pausing_statuses"] = ["on_hold", "waiting_on_customer"]
    path: Path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    _, timer = launch_kept(policy_file=str(path))
    return timer


def test_waiting_on_customer_pauses_when_the_policy_lists_it(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.waited_on_customer(tid, t)
    types = emitted.wait_types(tid, lambda ts: "sla.clock_met" in ts)
    assert types == [
        "sla.clock_started",
        "sla.clock_paused",
        "sla.clock_resumed",
        "sla.clock_met",
    ]
    events = dict(emitted.events(tid))
    assert utc(events["sla.clock_paused"]["paused_at"]) == t + 10 * M
    resumed, met = events["sla.clock_resumed"], events["sla.clock_met"]
    assert utc(resumed["resumed_at"]) == t + 40 * M
    assert utc(resumed["deadline"]) == utc(met["deadline"]) == t + 90 * M  # 30 min waiting
    assert resumed["policy_version"] == met["policy_version"] == "test-waiting-pauses"
