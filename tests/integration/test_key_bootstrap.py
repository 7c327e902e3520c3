"""The key bootstrap Job's program against the real database and a stand-in for the
Kubernetes API (the same REST paths, in memory): it stores the first admin's and the
services' keys into Secrets, and a re-run makes only what is missing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.fixtures.backends import create_fresh_database
from tidemark_intake.access.key_bootstrap import SERVICES, WantedKey, missing_keys

pytestmark = pytest.mark.integration
TOKEN = "test-service-account-token"
PREFIX = "/api/v1/namespaces/support/secrets"


class FakeSecretsApi(BaseHTTPRequestHandler):
    secrets: dict[str, dict[str, Any]] = {}
    calls: list[tuple[str, str]] = []

    def _answer(self, code: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        self.calls.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._answer(401, {"reason": "Unauthorized"})
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        name = self.path.removeprefix(PREFIX).strip("/")
        if self.command == "GET" and name in self.secrets:
            return self._answer(200, self.secrets[name])
        if self.command == "POST" and not name:
            self.secrets[body["metadata"]["name"]] = body
            return self._answer(201, body)
        if self.command == "PATCH" and name in self.secrets:
            assert self.headers["Content-Type"] == "application/merge-patch+json"
            self.secrets[name]["data"].update(body["data"])
            return self._answer(200, self.secrets[name])
        return self._answer(404, {"reason": "NotFound"})

    do_GET = do_POST = do_PATCH = _handle

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_api() -> Iterator[str]:
    FakeSecretsApi.secrets, FakeSecretsApi.calls = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSecretsApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def entries(name: str) -> dict[str, str]:
    data = FakeSecretsApi.secrets[name]["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def run_bootstrap(api: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    command = [sys.executable, "-m", "tidemark_intake.access.key_bootstrap",
               "--admin-secret", "tidemark-admin-key", "--service-keys-secret",
               "tidemark-service-keys", "--api-url", api, "--namespace", "support",
               "--token-file", str(token)]  # fmt: skip
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def stored_keys(database_url: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return list(
                await conn.fetch(
                    "SELECT key_id, name, kind, role FROM intake.api_keys ORDER BY name"
                )
            )
        finally:
            await conn.close()

    return asyncio.run(fetch())  # fmt: skip


def test_the_first_keys_land_in_secrets_once(
    fake_api: str, database_url: str, tmp_path: Path
) -> None:
    db = create_fresh_database(database_url, prefix="tidemark_keyboot")
    first = run_bootstrap(fake_api, db, tmp_path)
    assert first.returncode == 0, first.stderr
    admin = entries("tidemark-admin-key")
    services = entries("tidemark-service-keys")
    assert set(admin) == {"api-key"} and set(services) == set(SERVICES)
    rows = {r["name"]: r for r in stored_keys(db)}
    assert (rows["first-admin"]["kind"], rows["first-admin"]["role"]) == ("staff", "admin")
    assert all(rows[s]["kind"] == "service" for s in SERVICES)
    # Each stored plain key is the one in the table (tmk_<key id>_<secret>), never printed.
    for name, key in [("first-admin", admin["api-key"]), *services.items()]:
        assert key.split("_")[1] == rows[name]["key_id"]
        assert key not in first.stdout + first.stderr

    # One entry lost: the re-run makes only that one and keeps the others.
    del FakeSecretsApi.secrets["tidemark-service-keys"]["data"]["notifier"]
    again = run_bootstrap(fake_api, db, tmp_path)
    assert again.returncode == 0, again.stderr
    assert entries("tidemark-admin-key") == admin
    after = entries("tidemark-service-keys")
    assert {k: v for k, v in after.items() if k != "notifier"} == {
        k: v for k, v in services.items() if k != "notifier"
    }
    assert after["notifier"] != services["notifier"]
    assert len(stored_keys(db)) == 6

    # Everything there: nothing made, nothing written.
    FakeSecretsApi.calls.clear()
    third = run_bootstrap(fake_api, db, tmp_path)
    assert third.returncode == 0 and "nothing made" in third.stdout
    assert {method for method, _ in FakeSecretsApi.calls} == {"GET"}
    assert len(stored_keys(db)) == 6


def test_missing_keys_follows_the_secrets_entries() -> None:
    none = missing_keys("a", "s", "root", {"a": None, "s": None})
    assert none[0] == WantedKey("a", "api-key", "root", "staff", "admin")
    assert [w.entry for w in none[1:]] == list(SERVICES)
    some = missing_keys("a", "s", "root", {"a": {"api-key": "k"}, "s": {"classifier": "k"}})
    assert [w.entry for w in some] == ["sla-timer", "notifier", "escalation"]
