"""The board with 100,000 waiting tickets: the first page is a keyset page per queue (no
full-table render) and is served in under 300 ms. An escalation of its own on a fresh
database (and a topic namespace nobody writes to) is filled with COPY, then timed.
`make screenshots` also saves the full board from here (docs/images/board-full.png)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.fixtures.backends import create_fresh_database
from tests.fixtures.system import System, wait_ready
from tidemark_escalation.ordering import serve_rank, tid_key

from .board_client import chromium, screenshot_folder, signed_in_client

pytestmark = pytest.mark.e2e
WAITING = 100_000
SHARE = {"tier1": 0.70, "tier2": 0.20, "supervisor": 0.08, "development": 0.02}
FIRST_PAGE_BOUND = 0.300  # seconds (issue 20)
SUBJECTS = (
    "Checkout page is slow", "Export to CSV fails", "Cannot log in after the update",
    "Invoice address needs changing", "Search returns nothing", "Images do not upload",
    "Site down after plugin update", "Password reset mail never arrives",
)  # fmt: skip
LEVELS = ("commercial", "commercial_vip", "non_commercial", "commercial")
SEVERITIES = ("low", "medium", "high", "critical", None)


async def fill(db: str, now: Any) -> None:
    """WAITING queue rows with board rows beside them: deterministic (seed 20)."""
    rng = random.Random(20)
    queues = [q for q, share in SHARE.items() for _ in range(int(share * 100))]
    entries, board = [], []
    for n in range(1, WAITING + 1):
        tid = f"TID-{n}"
        urgent = rng.random() < 0.0001  # a handful: they head their queues
        submitted = now - timedelta(minutes=WAITING - n)
        queue = queues[n % len(queues)]
        deadline = now + timedelta(minutes=rng.randint(-600, 2400))
        entries.append((
            tid, queue, urgent, submitted, LEVELS[n % len(LEVELS)], SEVERITIES[n % 5],
            submitted, serve_rank(urgent), tid_key(tid), True, "default:tier1", "new", None,
            [], deadline,
        ))  # fmt: skip
        paused = rng.random() < 0.05
        board.append((
            tid, SUBJECTS[n % len(SUBJECTS)], f"{tid}/1", "first_response", deadline,
            deadline - timedelta(hours=2), paused, False, deadline < now,
        ))  # fmt: skip
    conn = await asyncpg.connect(db, server_settings={"search_path": "escalation"})
    try:
        await conn.copy_records_to_table(
            "queue_entries",
            records=entries,
            columns=["tid", "queue", "urgent", "submitted_at", "level", "severity", "queued_at",
                     "serve_rank", "tid_key", "waiting", "rule", "reason", "note", "acted_on",
                     "deadline"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "board_tickets",
            records=board,
            columns=["tid", "subject", "obligation_id", "kind", "deadline", "warning_at",
                     "paused", "warned", "breached"],
        )  # fmt: skip
        await conn.execute("VACUUM ANALYZE queue_entries")
        await conn.execute("VACUUM ANALYZE board_tickets")
    finally:
        await conn.close()


def timed(client: Any, path: str, runs: int = 15) -> list[float]:
    client.get(path)  # warm: the pool's connections and the statement cache
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:300]
    return seconds


def test_the_first_page_of_100k_waiting_tickets_is_served_under_300_ms(
    system: System, service_launcher: Any, database_url: str, tmp_path: Path
) -> None:
    db = create_fresh_database(database_url, prefix="tidemark_board100k")
    escalation = service_launcher(
        "escalation",
        {
            "TIDEMARK_DATABASE_URL": db,
            "TIDEMARK_TOPIC_NAMESPACE": f"board{uuid.uuid4().hex[:8]}.",
            "TIDEMARK_INTAKE_URL": system.urls["intake"],
        },
    )
    wait_ready(escalation.url)  # its migrations are applied
    asyncio.run(fill(db, system.now()))
    with signed_in_client(escalation.url, system.keys.supervisor) as board:
        page = board.get("/board")
        assert page.text.count('<tr id="row-TID-') == 4 * 25  # a page per queue, no more
        assert "70000 waiting" in page.text
        first = timed(board, "/board")
        cursor = page.text.split("/board/queues/tier1?cursor=")[1].split('"')[0]
        second = timed(board, f"/board/queues/tier1?cursor={cursor}")
        risk = timed(board, "/board/at-risk", runs=3)
    figures = {
        "first page": first, "tier1's second page (100 rows)": second, "at-risk view": risk,
    }  # fmt: skip
    print(f"\nboard with {WAITING} waiting tickets (client-side wall time, median / max):")
    for name, runs in figures.items():
        print(f"  {name}: {statistics.median(runs) * 1000:.0f} ms / {max(runs) * 1000:.0f} ms")
    assert statistics.median(first) < FIRST_PAGE_BOUND, first
    with chromium() as browser:
        desktop = browser.new_page(viewport={"width": 1280, "height": 800})
        desktop.goto(f"{escalation.url}/board/sign-in")
        desktop.get_by_label("Staff key").fill(system.keys.supervisor)
        desktop.get_by_label("Staff key").press("Enter")
        desktop.wait_for_selector("#queue-tier1 tr[data-tid]")
        desktop.screenshot(path=screenshot_folder(tmp_path) / "board-full.png")
    escalation.kill()
