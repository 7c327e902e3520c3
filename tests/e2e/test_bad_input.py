"""Bad input found by fuzzing, kept as fixed cases: each is a clear 4xx, never a 500."""

from __future__ import annotations

import pytest

from .conftest import System

pytestmark = pytest.mark.e2e


def test_a_breach_cursor_beyond_64_bits_is_a_422(system: System) -> None:
    # Schemathesis found it: the cursor reached Postgres as a bigint and failed there (500).
    with system.client("sla-timer", system.keys.supervisor) as sla:
        answer = sla.get("/v1/breaches", params={"after": 2**64})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "after" in answer.text
