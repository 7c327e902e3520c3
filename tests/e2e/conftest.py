"""The five services as real processes against the fixtures' Kafka, Postgres and SMTP."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

SERVICES = ("intake", "classifier", "sla-timer", "notifier", "escalation")
STAFF_KEY = "e2e-staff-key"  # the classifier's directory and overrides are staff only
STAFF = {"X-Api-Key": STAFF_KEY}
EXTRA_ENV = {
    "classifier": {
        "TIDEMARK_CLASSIFIER_STAFF_KEYS": json.dumps(
            {"e2e-staff": hashlib.sha256(STAFF_KEY.encode()).hexdigest()}
        )
    }
}


@dataclass
class System:
    urls: dict[str, str]
    processes: dict[str, Any]

    def client(self, service: str) -> httpx.Client:
        return httpx.Client(base_url=self.urls[service], timeout=10.0)


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")


@pytest.fixture(scope="session")
def system(service_launcher: Any) -> Iterator[System]:
    processes = {name: service_launcher(name, EXTRA_ENV.get(name)) for name in SERVICES}
    for proc in processes.values():
        wait_ready(proc.url)
    yield System({n: p.url for n, p in processes.items()}, processes)


def poll(fetch: Any, until: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Call `fetch()` until `until(result)` holds; return the result or fail with the last one."""
    deadline = time.monotonic() + timeout
    result = fetch()
    while not until(result):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last: {result!r}")
        time.sleep(interval)
        result = fetch()
    return result
