"""The bulk import command (`tidemark-classifier-import`, its `main`) against the module's
database: valid rows recorded with their events, rejects reported by line, stamped with
the runtime clock (TIDEMARK_CLOCK), not the machine's; what it recorded is what the
service's routes then answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tidemark_classifier.importer import main

from .conftest import Classifier, new_key

FAR_AWAY = datetime(2041, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def import_env(classifier_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the command reads, as an operator would set it."""
    monkeypatch.setenv("TIDEMARK_DATABASE_URL", classifier_db)
    monkeypatch.delenv("TIDEMARK_CLASSIFIER_DATABASE_URL", raising=False)


async def run_import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the command (in a thread: it runs its own loop)."""
    capsys.readouterr()
    status = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return status, out, err


async def test_import_records_valid_rows_and_reports_rejects_by_line(
    tmp_path: Path,
    import_env: None,
    classifier: Classifier,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tag = new_key("IMP")
    good, partner = f"{tag}-1", f"{tag}-2"
    csv_file = tmp_path / "licenses.csv"
    csv_file.write_text(
        "license_key,edition,owner,emails,partner,purchase_date,coupon_allowance\n"
        f"{good},ultimate,Ada Ltd,ada@example.com;ops@example.com,no,2026-02-01,4\n"
        f"{tag}-x,platinum,Nope,x@example.com,no,2026-02-01,\n"
        f"{partner},start,Partner AG,p@example.com,yes,2019-05-05,\n"
        f"{tag}-y,start,No date,y@example.com,no,,\n"
    )
    status, out, _ = await run_import(capsys, str(csv_file), "--dry-run")
    assert status == 1 and "2 rows valid (dry run); 2 rejected" in out
    assert (await classifier.http.get(f"/v1/licenses/{good}")).status_code == 404

    status, out, err = await run_import(capsys, str(csv_file), "--by", "ops-bulk")
    assert status == 1, err
    assert "2 registered, 0 updated, 0 unchanged; 2 rejected" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("line 3: edition") and lines[1].startswith("line 5: purchase_date")
    got = (await classifier.http.get(f"/v1/licenses/{good}")).json()
    assert got["emails"] == ["ada@example.com", "ops@example.com"]
    assert got["coupon_allowance"] == 4
    stored = await classifier.events(f"license/{good}", f"license/{partner}")
    assert [(e["source"], e["recorded_by"], e["change"]) for e in stored] == [
        ("import", "ops-bulk", "registered")
    ] * 2
    # in the outbox: the running service's relay publishes them
    assert len(await classifier.outbox_of(f"license/{good}", f"license/{partner}")) == 2

    jsonl = tmp_path / "again.jsonl"
    jsonl.write_text(
        f'{{"license_key": "{good}", "edition": "ultimate", "owner": "Ada Ltd", '
        '"emails": ["ops@example.com", "ada@example.com"], "purchase_date": "2026-02-01", '
        '"coupon_allowance": 4}\n'
    )
    status, out, _ = await run_import(capsys, str(jsonl))
    assert status == 0 and "0 registered, 0 updated, 1 unchanged" in out
    assert len(await classifier.events(f"license/{good}")) == 1

    status, _, _ = await run_import(capsys, str(tmp_path / "nope.csv"))
    assert status == 2


async def test_imported_licenses_are_recorded_at_the_runtime_clocks_time(
    tmp_path: Path,
    import_env: None,
    classifier: Classifier,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TIDEMARK_CLASSIFIER_CLOCK", f"manual:{FAR_AWAY.isoformat()}")
    key = new_key("CLK")
    csv_file = tmp_path / "licenses.csv"
    csv_file.write_text(
        "license_key,edition,owner,emails,partner,purchase_date,coupon_allowance\n"
        f"{key},ultimate,Ada Ltd,ada@example.com,no,2026-02-01,4\n"
    )
    status, _, err = await run_import(capsys, str(csv_file))
    assert status == 0, err
    (row,) = await classifier.pool.fetch(
        "SELECT occurred_at, data->>'recorded_at' AS recorded_at FROM events WHERE stream_id = $1",
        f"license/{key}",
    )
    assert row["occurred_at"] == FAR_AWAY  # ce_time
    assert datetime.fromisoformat(row["recorded_at"]) == FAR_AWAY  # in the event's data
