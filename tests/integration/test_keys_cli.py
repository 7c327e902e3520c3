"""`tidemark-keys` as a user runs it, against the real database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _keys(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "tidemark_intake.access.keys_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_list_revoke(database_url: str) -> None:
    made = _keys(database_url, "create", "--name", "cli-portal", "--channels", "web,chat")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("tmk_") and "only time" in made.stderr
    key_id = key.split("_")[1]
    listed = _keys(database_url, "list")
    line = next(line for line in listed.stdout.splitlines() if line.startswith(key_id))
    assert "chat,web" in line and "active" in line and key not in listed.stdout
    assert _keys(database_url, "revoke", key_id).returncode == 0
    assert "revoked" in next(
        line for line in _keys(database_url, "list").stdout.splitlines() if line.startswith(key_id)
    )
    assert _keys(database_url, "revoke", "nosuchkey000").returncode == 1


def test_bad_scope_and_unreachable_database_are_clear(database_url: str) -> None:
    bad = _keys(database_url, "create", "--name", "x", "--channels", "fax")
    assert bad.returncode == 2 and "unknown channel" in bad.stderr
    down = _keys("postgresql://postgres@127.0.0.1:9/nowhere", "list")
    assert down.returncode == 1 and "cannot reach the database" in down.stderr
