"""The bulk import stamps what it records with the runtime clock (TIDEMARK_CLOCK), not
the machine's: run in-process against a database of its own, with a manual clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.fixtures.backends import create_fresh_database, drop_database
from tidemark_classifier.importer import main

pytestmark = pytest.mark.integration
FAR_AWAY = datetime(2041, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_imported_licenses_are_recorded_at_the_runtime_clocks_time(
    tmp_path: Path, _postgres: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_url, _ = _postgres
    url = create_fresh_database(admin_url, prefix="tidemark_import_clock")
    try:
        monkeypatch.setenv("TIDEMARK_CLASSIFIER_DATABASE_URL", url)
        monkeypatch.setenv("TIDEMARK_CLASSIFIER_CLOCK", f"manual:{FAR_AWAY.isoformat()}")
        csv_file = tmp_path / "licenses.csv"
        csv_file.write_text(
            "license_key,edition,owner,emails,partner,purchase_date,coupon_allowance\n"
            "CLK-1,ultimate,Ada Ltd,ada@example.com,no,2026-02-01,4\n"
        )
        assert main([str(csv_file)]) == 0
        (row,) = asyncio.run(_recorded(url))
        assert row["occurred_at"] == FAR_AWAY  # ce_time
        assert datetime.fromisoformat(row["recorded_at"]) == FAR_AWAY  # in the event's data
    finally:
        drop_database(admin_url, url)


async def _recorded(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, server_settings={"search_path": "classifier"})
    try:
        return list(
            await conn.fetch(
                "SELECT occurred_at, data->>'recorded_at' AS recorded_at FROM events"
                " WHERE event_type = 'license.recorded'"
            )
        )
    finally:
        await conn.close()
