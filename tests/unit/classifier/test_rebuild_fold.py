"""The classifier's rebuild folds ticket.reclassified as save_reclassification does: level
and severity replaced, reasons appended, reclassified_at set; a second ticket.classified
for the same TID changes nothing (the live INSERT would have been refused)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.notifier import samples
from tidekit.events.classifier import TicketReclassified
from tidemark_classifier.rebuild import _fold


def test_reclassification_replaces_level_and_appends_reasons() -> None:
    rows: dict[str, dict[str, Any]] = {}
    assert _fold(rows, samples.classified("TID-1")) == "TID-1"
    at = samples.T0 + timedelta(hours=2)
    again = TicketReclassified(
        tid="TID-1", level="partner", severity="high", previous_level="commercial",
        previous_severity="medium", reason="customer is a partner", reclassified_by="agent-7",
        policy_version="2026.1", reclassified_at=at, reasons=("staff override",),
    )  # fmt: skip
    assert _fold(rows, again) == "TID-1"
    row = rows["TID-1"]
    assert (row["level"], row["severity"], row["reclassified_at"]) == ("partner", "high", at)
    assert row["reasons"] == ["registered sender", "staff override"]
    assert row["policy_version"] == "2026.1" and row["category"] == "product_error"

    assert _fold(rows, samples.classified("TID-1", level="non_commercial")) is None
    assert rows["TID-1"]["level"] == "partner"
    assert _fold(rows, again.model_copy(update={"tid": "TID-2"})) is None  # no row: no-op
