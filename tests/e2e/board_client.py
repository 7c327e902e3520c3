"""Helpers for the board's tests: sign in through the form, read the change stream."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's package (deploy/bootstrap.sh installs it)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright (never `playwright install`'s own build)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot_folder(default: Path) -> Path:
    """Where the browser tests save their screenshots: TIDEMARK_SCREENSHOTS (`make
    screenshots` sets docs/images), else the test's own temporary folder."""
    folder = os.environ.get("TIDEMARK_SCREENSHOTS")
    return Path(folder) if folder else default


@contextmanager
def signed_in_client(base_url: str, key: str) -> Iterator[httpx.Client]:
    """A client holding a board session, signed in with `key` through the form."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.post("/board/sign-in", data={"key": key})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/board"
        yield client


@dataclass(frozen=True)
class Change:
    id: int
    data: dict[str, Any]
    arrived: float  # time.time() when the line was read


@contextmanager
def change_stream(
    client: httpx.Client, after: int | None = None, last_event_id: int | None = None
) -> Iterator[queue.Queue[Change]]:
    """The board's SSE `change` events, read in a thread into a queue as they arrive."""
    changes: queue.Queue[Change] = queue.Queue()
    opened = threading.Event()
    stop = threading.Event()

    def read() -> None:
        try:
            follow()
        except httpx.HTTPError:
            if not stop.is_set():  # the server going away after the test is expected
                raise

    def follow() -> None:
        # As a browser's EventSource does: reconnect when a stream ends, with Last-Event-ID.
        resume = last_event_id
        while not stop.is_set():
            params = {} if after is None else {"after": after}
            headers = {} if resume is None else {"Last-Event-ID": str(resume)}
            with client.stream(
                "GET", "/board/events", params=params, headers=headers, timeout=None
            ) as stream:
                assert stream.status_code == 200
                event, ident = "", ""
                for line in stream.iter_lines():
                    opened.set()
                    if stop.is_set():
                        return
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        ident = line[4:]
                        resume = int(ident)
                    elif line.startswith("data: ") and event == "change":
                        changes.put(Change(int(ident), json.loads(line[6:]), time.time()))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert opened.wait(10), "the change stream did not open"
    try:
        yield changes
    finally:
        stop.set()


def wait_for_change(changes: queue.Queue[Change], tid: str, kind: str, timeout: float) -> Change:
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            change = changes.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if change.data["tid"] == tid and change.data["kind"] == kind:
            return change
        seen.append(change.data)
    raise AssertionError(f"no {kind} for {tid} within {timeout}s; saw {seen[-5:]}")
