"""`tidemark-ops rebuild` of the services that fold other services' events (sla-timer,
notifier, escalation): after a breached ticket and an answered one, each service's rebuilt
tables hold exactly the rows the live ones held (compared as sets of rows)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import asyncpg
import pytest

from .conftest import System, poll
from .test_breach_flow import next_weekday_at
from .test_projection_rebuild import _ops_rebuild, _tables
from .test_walking_skeleton import new_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.moves_clock]
REBUILT = {
    "sla-timer": (
        "sla_timer",
        ["sla_tickets", "clock_inputs", "sla_emitted", "timers", "breaches"],
    ),
    "notifier": ("notifier", ["tickets"]),
    "escalation": ("escalation", ["queue_entries", "ticket_deadlines", "report_obligations"]),
}
Rows = list[dict[str, object]]
SETTLE_SECONDS = 240


def _unmatched(live: Rows, rebuilt: Rows) -> tuple[list[str], list[str]]:
    """(rows only the live table has, rows only the rebuilt one has), order aside."""
    was, now = Counter(map(repr, live)), Counter(map(repr, rebuilt))
    return sorted((was - now).elements()), sorted((now - was).elements())


def _breached_and_answered(system: System) -> list[str]:
    """A ticket whose first response is breached (warning, breach, escalation to tier 2, a
    late reply) and one put on hold and answered in time."""
    email = f"rb-{uuid.uuid4().hex[:8]}@example.com"
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    submit_at = next_weekday_at(system.now(), 9)
    system.jump_to(submit_at)
    with system.client("classifier") as classifier:
        body = {"edition": "business", "owner": "Rebuild Ltd", "emails": [email],
                "purchase_date": submit_at.date().isoformat()}  # fmt: skip
        assert classifier.put(f"/v1/licenses/{key}", json=body).status_code == 201
    with system.client("intake") as intake:
        late = intake.post("/v1/tickets", json=new_ticket(email, key)).json()
    with system.client("sla-timer") as sla:
        first = poll(
            lambda: sla.get(f"/v1/tickets/{late['tid']}/sla"), lambda r: r.status_code == 200
        ).json()["obligations"][0]
        deadline = first["deadline"].replace("Z", "+00:00")
        system.jump_to(datetime.fromisoformat(deadline) + timedelta(minutes=1))
        poll(
            lambda: sla.get(f"/v1/tickets/{late['tid']}/sla").json()["obligations"][0],
            lambda ob: ob["state"] == "breached",
        )
    with system.client("intake") as intake, system.client("intake", system.keys.agent) as staff:
        held = intake.post("/v1/tickets", json=new_ticket(f"held-{email}")).json()["tid"]
        poll(lambda: staff.get(f"/v1/tickets/{held}").json(), lambda t: t["obligations"])
        assert staff.post(f"/v1/tickets/{held}/status", json={"status": "on_hold"}).is_success
        for tid in (late["tid"], held):
            assert staff.post(f"/v1/tickets/{tid}/messages", json={"body": "done"}).is_success
            poll(
                lambda tid=tid: staff.get(f"/v1/tickets/{tid}").json(),  # type: ignore[misc]
                lambda t: t["obligations"][0]["met_at"] is not None,
            )
    return [late["tid"], held]


def _settled(system: System, database_url: str, kafka_bootstrap: str) -> None:
    """No timer due (other tests' tickets fall due after a jump too), every outbox row
    published and the system's five consumer groups at the end of their partitions (not
    every group on the broker: other tests leave groups of their own behind)."""
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url,
           "TIDEMARK_KAFKA_BOOTSTRAP": kafka_bootstrap}  # fmt: skip
    lag = [sys.executable, "-m", "tidekit.ops.cli", "lag", "--max-lag", "0"]
    unpublished = " + ".join(
        f"(SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL)"
        for s in ("intake", "classifier", "sla_timer", "notifier", "escalation")
    )
    # Bounded, not timed: after the jump every earlier test's ticket falls due too, and
    # the notifier sends its breach mails one at a time (SEND_CONCURRENCY 1).
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        due = "(SELECT count(*) FROM sla_timer.timers WHERE due_at <= $1)"
        if asyncio.run(_count(database_url, f"SELECT {due} + {unpublished}", system.now())) == 0:
            if all(
                subprocess.run(
                    [*lag, "--group", f"tidemark.{s}.main"], env=env, capture_output=True,
                    text=True, timeout=60,
                ).returncode == 0
                for s in ("intake", "classifier", "sla-timer", "notifier", "escalation")
            ):  # fmt: skip
                return
        time.sleep(0.2)
    raise TimeoutError(f"the services did not settle in {SETTLE_SECONDS} s")


async def _count(database_url: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def test_ops_rebuild_gives_back_the_consumers_live_tables(
    system: System, database_url: str, kafka_bootstrap: str
) -> None:
    tids = _breached_and_answered(system)
    _settled(system, database_url, kafka_bootstrap)
    for service, (schema, tables) in REBUILT.items():
        live = {t: asyncio.run(_tables(database_url, schema, t)) for t in tables}
        assert set(tids) <= {r["tid"] for r in live[tables[0]][0]}, service  # the flow's
        _ops_rebuild(database_url, service)
        for table in tables:
            rebuilt = asyncio.run(_tables(database_url, schema, table))
            assert rebuilt[1:] == live[table][1:], (service, table)
            assert _unmatched(live[table][0], rebuilt[0]) == ([], []), (service, table)
    breaches = asyncio.run(_tables(database_url, "sla_timer", "breaches"))[0]
    assert tids[0] in {r["tid"] for r in breaches}
