"""Each obligation kind of SPEC 1.5 through a real sla-timer process (real Kafka and
Postgres), with its manual clock: days of SLA time without sleeping.

The clock starts on Friday 2026-11-20 10:00 UTC. commercial/high: 1 h on 24x7 (warning
at 45 min); commercial/low: 24 h on business days (the level leg beats 72 h)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.kafka_reader import read_topics
from tests.integration.sla_timer.harness import Emitted, Timer, Upstream, new_tid, utc, wait_for

pytestmark = pytest.mark.integration
M = timedelta(minutes=1)


@pytest.fixture(scope="module")
def timer(launch_kept: Any) -> Timer:
    _, timer = launch_kept()
    return timer


def test_first_response_met_by_a_public_reply_not_by_an_internal_note(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.staff_reply(tid, t + 10 * M, visibility="internal")
    upstream.staff_reply(tid, t + 20 * M)
    assert emitted.wait_types(tid, lambda ts: "sla.clock_met" in ts) == [
        "sla.clock_started",
        "sla.clock_met",
    ]
    started, met = (data for _, data in emitted.events(tid))
    assert utc(started["deadline"]) == t + 60 * M
    assert utc(started["warning_at"]) == t + 45 * M
    assert (started["kind"], started["policy_version"]) == ("first_response", "2026.1")
    assert utc(met["met_at"]) == t + 20 * M
    assert met["policy_version"] == "2026.1"
    (ob,) = timer.sla(tid)["obligations"]
    assert (ob["state"], ob["obligation_id"]) == ("met", f"{tid}/1")


def test_next_response_starts_when_the_customer_answers_a_wait(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.staff_reply(tid, t + 5 * M)
    upstream.status(tid, t + 6 * M, "waiting_on_customer")
    upstream.customer_message(tid, t + 30 * M)
    emitted.wait_types(tid, lambda ts: ts.count("sla.clock_started") == 2)
    events = emitted.events(tid)
    second = [d for ty, d in events if ty == "sla.clock_started"][1]
    assert (second["obligation_id"], second["kind"]) == (f"{tid}/2", "next_response")
    assert utc(second["deadline"]) == t + 90 * M
    first, nxt = timer.sla(tid)["obligations"]
    assert (first["state"], nxt["state"]) == ("met", "running")


def test_on_hold_pauses_and_paused_time_does_not_count(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.status(tid, t + 10 * M, "on_hold")
    upstream.customer_message(tid, t + 15 * M)  # does not end a hold for a third party
    upstream.status(tid, t + 40 * M, "open", frm="on_hold")
    types = emitted.wait_types(tid, lambda ts: "sla.clock_resumed" in ts)
    assert types == ["sla.clock_started", "sla.clock_paused", "sla.clock_resumed"]
    resumed = emitted.events(tid)[-1][1]
    assert utc(resumed["deadline"]) == t + 90 * M  # 30 minutes on hold
    assert resumed["policy_version"] == "2026.1"
    (ob,) = timer.sla(tid)["obligations"]
    assert (ob["state"], utc(ob["deadline"])) == ("running", t + 90 * M)


def test_waiting_on_customer_does_not_pause_under_the_default_policy(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    # SPEC 1.5: only on_hold pauses by default (see test_pausing_policy for a policy that
    # lists waiting_on_customer): asking the customer something is not a reply
    tid, t = new_tid(), timer.now()
    upstream.waited_on_customer(tid, t)
    types = emitted.wait_types(tid, lambda ts: "sla.clock_met" in ts)
    assert types == ["sla.clock_started", "sla.clock_met"]
    met = emitted.events(tid)[-1][1]
    assert utc(met["deadline"]) == t + 60 * M  # not moved by the 30 minutes of waiting


def test_reopen_starts_a_new_obligation_from_the_reopen_time(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.resolved(tid, t + 10 * M)
    upstream.reopened(tid, t + 50 * M)
    types = emitted.wait_types(tid, lambda ts: ts.count("sla.clock_started") == 2)
    assert types == ["sla.clock_started", "sla.clock_met", "sla.clock_started"]
    reopened = emitted.events(tid)[-1][1]
    assert utc(reopened["started_at"]) == t + 50 * M
    assert reopened["kind"] == "next_response"


def test_expired_entitlement_starts_no_clock(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t, entitlement="expired")
    body = wait_for(
        lambda: timer.http.get(f"/v1/tickets/{tid}/sla"), lambda r: r.status_code == 200
    )
    assert body.json()["entitlement"] == "expired"
    assert body.json()["obligations"] == []
    assert emitted.types(tid) == []


def test_hand_over_to_development_starts_fourteen_days_on_24x7(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.escalated(tid, t + 20 * M, to="tier2")  # not development: no new clock
    upstream.escalated(tid, t + 25 * M)
    types = emitted.wait_types(tid, lambda ts: ts.count("sla.clock_started") == 2)
    assert types == ["sla.clock_started", "sla.clock_met", "sla.clock_started"]
    dev = emitted.events(tid)[-1][1]
    assert (dev["level"], dev["calendar"]) == ("development", "24x7")
    assert utc(dev["deadline"]) == t + 25 * M + timedelta(days=14)


def test_reclassification_recomputes_from_the_original_start(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)
    upstream.reclassified(tid, t + 20 * M, "commercial", "low", before=("commercial", "high"))
    emitted.wait_types(tid, lambda ts: "sla.target_changed" in ts)
    changed = dict(emitted.events(tid))["sla.target_changed"]
    assert utc(changed["old_deadline"]) == t + 60 * M
    # 24 h of business days from Friday 10:00 is Monday 10:00
    assert utc(changed["new_deadline"]) == t + timedelta(days=3)
    assert (changed["old_target_seconds"], changed["new_target_seconds"]) == (3600, 86400)
    assert changed["policy_version"] == changed["old_policy_version"] == "2026.1"
    timer.set_clock(t + 2 * 60 * M)  # past the old deadline: nothing due any more
    (ob,) = timer.sla(tid)["obligations"]
    assert (ob["state"], utc(ob["deadline"])) == ("running", t + timedelta(days=3))
    assert "sla.breached" not in emitted.types(tid)


def test_warning_and_breach_once_each_on_time_and_not_again_on_redelivery(
    timer: Timer, upstream: Upstream, emitted: Emitted, kafka_bootstrap: str
) -> None:
    tid, t = new_tid(), timer.now()
    (classified,) = upstream.classified(tid, t)
    emitted.wait_types(tid, lambda ts: "sla.clock_started" in ts)
    timer.set_clock(t + 44 * M)
    timer.set_clock(t + 45 * M)
    emitted.wait_types(tid, lambda ts: "sla.warning" in ts)
    timer.set_clock(t + 60 * M)
    emitted.wait_types(tid, lambda ts: "sla.breached" in ts)
    events = dict(emitted.events(tid))
    assert events["sla.warning"]["lateness_seconds"] == 0
    assert events["sla.breached"]["lateness_seconds"] == 0
    assert utc(events["sla.breached"]["deadline"]) == t + 60 * M
    # redelivery: the same record again, and the same fact under a new event id
    upstream.send(envelopes=[classified])
    upstream.classified(tid, t)
    marker = new_tid()
    upstream.classified(marker, timer.now())
    emitted.wait_types(marker, lambda ts: "sla.clock_started" in ts)
    timer.set_clock(t + 3 * 60 * M)
    types = emitted.wait_types(marker, lambda ts: "sla.breached" in ts)
    assert Counter(emitted.types(tid)) == Counter(
        {"sla.clock_started": 1, "sla.warning": 1, "sla.breached": 1}
    ), types
    page = timer.http.get("/v1/breaches", params={"since": (t - M).isoformat(), "limit": 1000})
    mine = [b for b in page.json()["breaches"] if b["tid"] == tid]
    assert len(mine) == 1 and mine[0]["lateness_seconds"] == 0
    # and the relay put each of them on (the namespaced) tidemark.sla.v1
    ids = {
        str(r["event_id"])
        for r in emitted.query("SELECT event_id FROM sla_timer.events WHERE stream_id=$1", tid)
    }
    seen = wait_for(
        lambda: {r.id for r in read_topics(kafka_bootstrap, [upstream.topic("sla-timer")])} & ids,
        lambda found: found == ids,
    )
    assert seen == ids


def test_breaches_are_cursor_paged_in_order(timer: Timer) -> None:
    first = timer.http.get("/v1/breaches", params={"limit": 1}).json()
    assert len(first["breaches"]) == 1 and first["next_cursor"] is not None
    second = timer.http.get("/v1/breaches", params={"limit": 1, "after": first["next_cursor"]})
    assert second.json()["breaches"][0]["seq"] > first["breaches"][0]["seq"]
    assert timer.http.get("/v1/breaches", params={"since": "yesterday"}).status_code == 422


def test_reclassification_to_severity_null_moves_the_deadline_to_the_level_target(
    timer: Timer, upstream: Upstream, emitted: Emitted
) -> None:
    tid, t = new_tid(), timer.now()
    upstream.classified(tid, t)  # commercial/high: 1 h on 24x7
    upstream.reclassified(tid, t + 20 * M, "commercial", None, before=("commercial", "high"))
    emitted.wait_types(tid, lambda ts: "sla.target_changed" in ts)
    changed = dict(emitted.events(tid))["sla.target_changed"]
    assert changed["severity"] is None
    # the level's 24 h of business days from Friday 10:00 is Monday 10:00
    assert utc(changed["old_deadline"]) == t + 60 * M
    assert utc(changed["new_deadline"]) == t + timedelta(days=3)
    (ob,) = timer.sla(tid)["obligations"]
    assert (ob["state"], utc(ob["deadline"]), ob["severity"]) == (
        "running",
        t + timedelta(days=3),
        None,
    )
