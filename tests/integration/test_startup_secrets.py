"""Outside development a service refuses to start without its secrets, with one line that
names each missing setting; with them it starts. Real processes, as an operator runs them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.fixtures.system import poll
from tidemark_devstack.common import REPO_ROOT, free_port

pytestmark = pytest.mark.integration
NOWHERE = {  # nothing connects at start-up, so these need not answer
    "TIDEMARK_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    "TIDEMARK_KAFKA_BOOTSTRAP": "127.0.0.1:9",
}


@contextmanager
def service(name: str, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    module = f"tidemark_{name.replace('-', '_')}.app:create_app"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIDEMARK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", module, "--port", str(port)],
        env={**clean, **NOWHERE, **env}, cwd=REPO_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def refusal(name: str, env: dict[str, str]) -> str:
    with service(name, env) as (proc, _):
        _, err = proc.communicate(timeout=60)
        assert proc.returncode not in (0, None), err
        lines = [line for line in err.splitlines() if "refusing to start" in line]
        assert len(lines) == 1, err
        return lines[0]


def test_intake_without_its_secrets_refuses_to_start_naming_them() -> None:
    line = refusal("intake", {"TIDEMARK_ENV": "production"})
    assert "TIDEMARK_INTAKE_TOKEN_SECRET" in line and "TIDEMARK_INTAKE_VAULT_KEYS" in line


@pytest.mark.parametrize("name", ["classifier", "sla-timer", "notifier", "escalation"])
def test_a_service_without_its_service_key_refuses_to_start(name: str) -> None:
    assert "TIDEMARK_SERVICE_KEY" in refusal(name, {})  # production is the default


def test_an_unsigned_webhook_is_refused_outside_development() -> None:
    hooks = '{"tier2": {"url": "https://alerts.example/hook"}}'
    env = {"TIDEMARK_SERVICE_KEY": "tmk_x", "TIDEMARK_NOTIFIER_ALERT_WEBHOOKS": hooks}
    assert "ALERT_WEBHOOKS[tier2].secret" in refusal("notifier", env)


def alive(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_with_its_secrets_intake_starts_in_production() -> None:
    vault_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env = {
        "TIDEMARK_ENV": "production",
        "TIDEMARK_INTAKE_TOKEN_SECRET": secrets.token_urlsafe(32),
        "TIDEMARK_INTAKE_VAULT_KEYS": f'{{"2026-11": "{vault_key}"}}',
        "TIDEMARK_INTAKE_VAULT_ACTIVE_KEY": "2026-11",
    }
    with service("intake", env) as (proc, url):
        assert poll(lambda: alive(url) or proc.poll() is not None, bool, timeout=60)
        assert proc.poll() is None and alive(url)


def test_in_development_the_built_in_secrets_only_warn() -> None:
    with service("sla-timer", {"TIDEMARK_ENV": "development"}) as (proc, url):
        assert poll(lambda: alive(url) or proc.poll() is not None, bool, timeout=60)
        assert proc.poll() is None and alive(url)
