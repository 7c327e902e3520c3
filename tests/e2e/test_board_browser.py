"""The board in a real browser (Playwright driving Debian's Chromium, headless): sign in,
a ticket appears live after it is posted to intake, and its countdown turns to
"breached" when the test clock jumps past its deadline. With TIDEMARK_SCREENSHOTS set to
a folder (`make screenshots`: docs/images), the pages are saved there for docs/board.md.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.system import System, poll
from tidemark_escalation.ordering import encode_cursor

from .board_client import chromium, screenshot_folder
from .test_walking_skeleton import new_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.moves_clock]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return screenshot_folder(tmp_path)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/board")
    expect(page).to_have_url(f"{url}/board/sign-in")  # no session: to the form
    page.get_by_label("Staff key").fill(key)
    page.get_by_label("Staff key").press("Enter")  # the keyboard is enough
    expect(page).to_have_url(f"{url}/board")
    expect(page.locator("#queue-tier1")).to_be_visible()


def test_a_ticket_appears_live_and_its_countdown_turns_breached_when_time_jumps(
    system: System, browser: Browser, shots: Path
) -> None:
    url = system.urls["escalation"]
    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, url, system.keys.supervisor)
    # The queue page from "now" in serving order: only tickets submitted from here on.
    cursor = encode_cursor((1, system.now(), ""))
    page.goto(f"{url}/board/queues/tier1?cursor={cursor}")
    expect(page.locator("body[data-live=on]")).to_be_attached()
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded

    with system.client("intake") as intake:
        created = intake.post("/v1/tickets", json=ticket("board-browser@example.com"))
    assert created.status_code == 201, created.text
    tid = created.json()["tid"]
    posted = time.monotonic()
    row = page.locator(f"#row-{tid}")
    expect(row).to_be_visible(timeout=60_000)
    print(f"\n{tid} on the page {time.monotonic() - posted:.2f} s after the POST to intake")
    assert page.evaluate("window.sameDocument") is True  # live, not reloaded
    expect(row.locator(".subject")).to_have_text("Invoice address needs changing")
    countdown = row.locator("td.countdown")
    expect(countdown).to_have_class("countdown state-running")
    expect(countdown).to_contain_text("left")
    page.screenshot(path=shots / "board-queue.png")

    # Into the supervisor queue (no rule moves a breached ticket on from there).
    with system.client("escalation") as escalation:
        moved = escalation.post(
            f"/v1/tickets/{tid}/escalate", json={"to": "supervisor", "reason": "board test"}
        )
    assert moved.status_code == 200, moved.text
    expect(row).to_be_hidden(timeout=10_000)  # it left tier 1, live
    page.goto(f"{url}/board/queues/supervisor?cursor={cursor}")
    row = page.locator(f"#row-{tid}")
    expect(row).to_be_visible()
    with system.client("sla-timer") as sla:
        found = poll(lambda: sla.get(f"/v1/tickets/{tid}/sla"), lambda r: r.status_code == 200)
    deadline = _instant(found.json()["obligations"][0]["deadline"])
    page.evaluate("window.sameDocument = true")
    row.focus()  # a keyboard user on the ticket: live refreshes keep the focus there
    system.jump_to(deadline + timedelta(minutes=1))
    countdown = row.locator("td.countdown")
    expect(countdown).to_have_class("countdown state-breached", timeout=15_000)
    # The countdown follows the service's clock (a minute past the deadline), not the
    # browser's (two days before it): the stream's clock events bring the jump.
    expect(countdown).to_have_text(re.compile(r"^breached 01m \d\ds ago$"), timeout=15_000)
    assert page.evaluate("window.sameDocument") is True
    expect(countdown).to_have_attribute("data-breached", "true")  # re-rendered: sla.breached
    assert page.evaluate("document.activeElement.dataset.tid") == tid
    page.screenshot(path=shots / "board-breached.png")

    page.goto(f"{url}/board")
    expect(page.locator("#tier2-hours")).to_contain_text("Tier 2 is")
    page.screenshot(path=shots / "board.png")
    page.goto(f"{url}/board/at-risk")
    expect(page.locator("#risk-tier1")).to_be_visible()
    page.screenshot(path=shots / "board-at-risk.png")
    day = deadline.date()  # the report of the day the ticket breached, from the nav's link
    page.get_by_role("link", name="Reports").click()
    page.goto(f"{url}/board/reports?from={day}&to={day + timedelta(days=1)}&tz=UTC")
    expect(page.get_by_role("heading", name="SLA attainment", exact=True)).to_be_visible()
    expect(page.locator("section.tm-report figure svg").first).to_be_visible()
    assert page.locator("p.error").count() == 0
    page.screenshot(path=shots / "board-reports.png", full_page=True)
    phone = browser.new_page(viewport=PHONE)
    sign_in(phone, url, system.keys.agent)
    phone.screenshot(path=shots / "board-phone.png")
    phone.close()
    page.close()


def ticket(email: str) -> dict[str, Any]:
    return {**new_ticket(email), "subject": "Invoice address needs changing"}
