"""The bulk import command as a real process against the session's Postgres."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from .conftest import STAFF, events_of

pytestmark = pytest.mark.integration


def run_import(path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "tidemark_classifier.importer", str(path), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_import_records_valid_rows_and_reports_rejects_by_line(
    tmp_path: Path, database_url: str, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    tag = uuid.uuid4().hex[:6]
    good, partner = f"IMP-{tag}-1", f"IMP-{tag}-2"
    csv_file = tmp_path / "licenses.csv"
    csv_file.write_text(
        "license_key,edition,owner,emails,partner,purchase_date,coupon_allowance\n"
        f"{good},ultimate,Ada Ltd,ada@example.com;ops@example.com,no,2026-02-01,4\n"
        f"IMP-{tag}-x,platinum,Nope,x@example.com,no,2026-02-01,\n"
        f"{partner},start,Partner AG,p@example.com,yes,2019-05-05,\n"
        f"IMP-{tag}-y,start,No date,y@example.com,no,,\n"
    )
    dry = await asyncio.to_thread(run_import, csv_file, database_url, "--dry-run")
    assert dry.returncode == 1 and "2 rows valid (dry run); 2 rejected" in dry.stdout
    assert (await api.get(f"/v1/licenses/{good}", headers=STAFF)).status_code == 404

    done = await asyncio.to_thread(run_import, csv_file, database_url, "--by", "ops-bulk")
    assert done.returncode == 1, done.stderr
    assert "2 registered, 0 updated, 0 unchanged; 2 rejected" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("line 3: edition") and lines[1].startswith("line 5: purchase_date")
    got = (await api.get(f"/v1/licenses/{good}", headers=STAFF)).json()
    assert got["emails"] == ["ada@example.com", "ops@example.com"]
    assert got["coupon_allowance"] == 4
    stored = await events_of(db, [f"license/{good}", f"license/{partner}"])
    assert [(e["source"], e["recorded_by"], e["change"]) for e in stored] == [
        ("import", "ops-bulk", "registered")
    ] * 2

    jsonl = tmp_path / "again.jsonl"
    jsonl.write_text(
        f'{{"license_key": "{good}", "edition": "ultimate", "owner": "Ada Ltd", '
        '"emails": ["ops@example.com", "ada@example.com"], "purchase_date": "2026-02-01", '
        '"coupon_allowance": 4}\n'
    )
    again = await asyncio.to_thread(run_import, jsonl, database_url)
    assert again.returncode == 0 and "0 registered, 0 updated, 1 unchanged" in again.stdout
    assert len(await events_of(db, [f"license/{good}"])) == 1

    missing = await asyncio.to_thread(run_import, tmp_path / "nope.csv", database_url)
    assert missing.returncode == 2
