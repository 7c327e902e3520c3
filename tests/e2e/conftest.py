"""The five services as real processes against the fixtures' Kafka, Postgres and SMTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.access import ApiKeys

SERVICES = ("intake", "classifier", "sla-timer", "notifier", "escalation")


@dataclass
class System:
    urls: dict[str, str]
    processes: dict[str, Any]
    keys: ApiKeys

    def client(self, service: str, key: str | None = None) -> httpx.Client:
        """A client of `service`; intake's carries a frontend key for every channel unless
        another key is given."""
        if key is None and service == "intake":
            key = self.keys.all_channels
        headers = {"X-Api-Key": key} if key else {}
        return httpx.Client(base_url=self.urls[service], timeout=10.0, headers=headers)


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
def system(service_launcher: Any, api_keys: ApiKeys) -> Iterator[System]:
    intake = service_launcher("intake")
    # The others ask this intake about staff keys.
    others = {"TIDEMARK_INTAKE_URL": intake.url}
    processes = {"intake": intake}
    processes.update({name: service_launcher(name, others) for name in SERVICES[1:]})
    for proc in processes.values():
        wait_ready(proc.url)
    yield System({n: p.url for n, p in processes.items()}, processes, api_keys)


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
