"""Each obligation kind of SPEC 1.5 through the sla-timer's real consumer path, routes and
scheduler claim, with its manual clock: days of SLA time without sleeping.

The clock starts on Friday 2026-11-20 10:00 UTC. commercial/high: 1 h on 24x7 (warning
at 45 min); commercial/low: 24 h on business days (the level leg beats 72 h)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tidekit.events import TOPICS

from . import upstream as up
from .conftest import Timer, utc

M = timedelta(minutes=1)


async def test_first_response_met_by_a_public_reply_not_by_an_internal_note(
    timer: Timer,
) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),
        up.staff_reply(tid, t + 10 * M, visibility="internal"),
        up.staff_reply(tid, t + 20 * M),
    )
    assert await timer.types(tid) == ["sla.clock_started", "sla.clock_met"]
    started, met = (data for _, data in await timer.events(tid))
    assert utc(started["deadline"]) == t + 60 * M
    assert utc(started["warning_at"]) == t + 45 * M
    assert (started["kind"], started["policy_version"]) == ("first_response", "2026.1")
    assert utc(met["met_at"]) == t + 20 * M
    assert met["policy_version"] == "2026.1"
    (ob,) = (await timer.sla(tid))["obligations"]
    assert (ob["state"], ob["obligation_id"]) == ("met", f"{tid}/1")


async def test_next_response_starts_when_the_customer_answers_a_wait(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),
        up.staff_reply(tid, t + 5 * M),
        up.status(tid, t + 6 * M, "waiting_on_customer"),
        up.customer_message(tid, t + 30 * M),
    )
    events = await timer.events(tid)
    assert [ty for ty, _ in events].count("sla.clock_started") == 2
    second = [d for ty, d in events if ty == "sla.clock_started"][1]
    assert (second["obligation_id"], second["kind"]) == (f"{tid}/2", "next_response")
    assert utc(second["deadline"]) == t + 90 * M
    first, nxt = (await timer.sla(tid))["obligations"]
    assert (first["state"], nxt["state"]) == ("met", "running")


async def test_on_hold_pauses_and_paused_time_does_not_count(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),
        up.status(tid, t + 10 * M, "on_hold"),
        up.customer_message(tid, t + 15 * M),  # does not end a hold for a third party
        up.status(tid, t + 40 * M, "open", frm="on_hold"),
    )
    types = await timer.types(tid)
    assert types == ["sla.clock_started", "sla.clock_paused", "sla.clock_resumed"]
    resumed = (await timer.events(tid))[-1][1]
    assert utc(resumed["deadline"]) == t + 90 * M  # 30 minutes on hold
    assert resumed["policy_version"] == "2026.1"
    (ob,) = (await timer.sla(tid))["obligations"]
    assert (ob["state"], utc(ob["deadline"])) == ("running", t + 90 * M)


async def test_waiting_on_customer_does_not_pause_under_the_default_policy(
    timer: Timer,
) -> None:
    # SPEC 1.5: only on_hold pauses by default (see test_pausing_policy for a policy that
    # lists waiting_on_customer): asking the customer something is not a reply
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(*up.waited_on_customer(tid, t))
    assert await timer.types(tid) == ["sla.clock_started", "sla.clock_met"]
    met = (await timer.events(tid))[-1][1]
    assert utc(met["deadline"]) == t + 60 * M  # not moved by the 30 minutes of waiting


async def test_reopen_starts_a_new_obligation_from_the_reopen_time(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t), up.resolved(tid, t + 10 * M), up.reopened(tid, t + 50 * M)
    )
    types = await timer.types(tid)
    assert types == ["sla.clock_started", "sla.clock_met", "sla.clock_started"]
    reopened = (await timer.events(tid))[-1][1]
    assert utc(reopened["started_at"]) == t + 50 * M
    assert reopened["kind"] == "next_response"


async def test_expired_entitlement_starts_no_clock(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(up.classified(tid, t, entitlement="expired"))
    body = await timer.sla(tid)
    assert body["entitlement"] == "expired"
    assert body["obligations"] == []
    assert await timer.types(tid) == []
    await timer.set_clock(t + 3 * 60 * M)  # and nothing falls due later
    assert await timer.types(tid) == []


async def test_hand_over_to_development_starts_fourteen_days_on_24x7(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),
        up.escalated(tid, t + 20 * M, to="tier2"),  # not development: no new clock
        up.escalated(tid, t + 25 * M),
    )
    types = await timer.types(tid)
    assert types == ["sla.clock_started", "sla.clock_met", "sla.clock_started"]
    dev = (await timer.events(tid))[-1][1]
    assert (dev["level"], dev["calendar"]) == ("development", "24x7")
    assert utc(dev["deadline"]) == t + 25 * M + timedelta(days=14)


async def test_reclassification_recomputes_from_the_original_start(timer: Timer) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),
        up.reclassified(tid, t + 20 * M, "commercial", "low", before=("commercial", "high")),
    )
    changed = dict(await timer.events(tid))["sla.target_changed"]
    assert utc(changed["old_deadline"]) == t + 60 * M
    # 24 h of business days from Friday 10:00 is Monday 10:00
    assert utc(changed["new_deadline"]) == t + timedelta(days=3)
    assert (changed["old_target_seconds"], changed["new_target_seconds"]) == (3600, 86400)
    assert changed["policy_version"] == changed["old_policy_version"] == "2026.1"
    assert await timer.set_clock(t + 2 * 60 * M) == 0  # past the old deadline: nothing due
    (ob,) = (await timer.sla(tid))["obligations"]
    assert (ob["state"], utc(ob["deadline"])) == ("running", t + timedelta(days=3))
    assert "sla.breached" not in await timer.types(tid)


async def test_warning_and_breach_once_each_on_time_and_not_again_on_redelivery(
    timer: Timer,
) -> None:
    tid, t = up.new_tid(), timer.now()
    [classified] = await timer.deliver(up.classified(tid, t))
    assert await timer.types(tid) == ["sla.clock_started"]
    assert await timer.set_clock(t + 44 * M) == 0
    assert await timer.set_clock(t + 45 * M) == 1
    assert await timer.types(tid) == ["sla.clock_started", "sla.warning"]
    assert await timer.set_clock(t + 60 * M) == 1
    events = dict(await timer.events(tid))
    assert events["sla.warning"]["lateness_seconds"] == 0
    assert events["sla.breached"]["lateness_seconds"] == 0
    assert utc(events["sla.breached"]["deadline"]) == t + 60 * M
    # redelivery: the same record again, and the same fact under a new event id
    await timer.redeliver(classified)
    await timer.deliver(up.classified(tid, t))
    assert await timer.set_clock(t + 3 * 60 * M) == 0
    assert Counter(await timer.types(tid)) == {
        "sla.clock_started": 1,
        "sla.warning": 1,
        "sla.breached": 1,
    }
    page = await timer.http.get(
        "/v1/breaches", params={"since": (t - M).isoformat(), "limit": 1000}
    )
    mine = [b for b in page.json()["breaches"] if b["tid"] == tid]
    assert len(mine) == 1 and mine[0]["lateness_seconds"] == 0
    # each of them in the outbox once, for the relay to put on tidemark.sla.v1
    published = await timer.published(tid)
    assert len(published) == 3
    assert all(topics == [TOPICS["sla-timer"]] for topics in published.values()), published


async def test_breaches_are_cursor_paged_in_order(timer: Timer) -> None:
    t = timer.now()
    await timer.deliver(up.classified(up.new_tid(), t), up.classified(up.new_tid(), t))
    assert await timer.set_clock(t + 60 * M) == 4  # two warnings, two breaches
    first = (await timer.http.get("/v1/breaches", params={"limit": 1})).json()
    assert len(first["breaches"]) == 1 and first["next_cursor"] is not None
    second = await timer.http.get(
        "/v1/breaches", params={"limit": 1, "after": first["next_cursor"]}
    )
    assert second.json()["breaches"][0]["seq"] > first["breaches"][0]["seq"]
    third = await timer.http.get(
        "/v1/breaches", params={"limit": 1, "after": second.json()["next_cursor"]}
    )
    assert third.json() == {"breaches": [], "next_cursor": None}
    assert (await timer.http.get("/v1/breaches", params={"since": "yesterday"})).status_code == 422


async def test_reclassification_to_severity_null_moves_the_deadline_to_the_level_target(
    timer: Timer,
) -> None:
    tid, t = up.new_tid(), timer.now()
    await timer.deliver(
        up.classified(tid, t),  # commercial/high: 1 h on 24x7
        up.reclassified(tid, t + 20 * M, "commercial", None, before=("commercial", "high")),
    )
    changed = dict(await timer.events(tid))["sla.target_changed"]
    assert changed["severity"] is None
    # the level's 24 h of business days from Friday 10:00 is Monday 10:00
    assert utc(changed["old_deadline"]) == t + 60 * M
    assert utc(changed["new_deadline"]) == t + timedelta(days=3)
    (ob,) = (await timer.sla(tid))["obligations"]
    assert (ob["state"], utc(ob["deadline"]), ob["severity"]) == (
        "running",
        t + timedelta(days=3),
        None,
    )
