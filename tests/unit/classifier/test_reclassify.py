"""Staff overrides (POST /v1/tickets/{tid}/reclassify), pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidemark_classifier.domain import Current, ReclassifyRefused, reclassify

NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)


def override(current: Current, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"level": None, "severity": None, "reason": "because"}
    args.update(kw)
    return reclassify(current, staff_id="agent-7", policy_version="p1", now=NOW, **args)  # type: ignore[arg-type]


def test_new_severity_keeps_the_level_and_records_who_and_why() -> None:
    e = override(Current("TID-1", "commercial", "low"), severity="critical", reason="outage")
    assert (e.level, e.severity, e.previous_severity) == ("commercial", "critical", "low")
    assert e.reclassified_by == "agent-7" and e.reason == "outage"
    assert e.reasons[0] == "staff override by agent-7: outage"
    assert "severity low -> critical" in e.reasons


def test_a_non_commercial_level_drops_the_severity_and_refuses_one() -> None:
    e = override(Current("TID-1", "commercial", "high"), level="non_product")
    assert (e.level, e.severity) == ("non_product", None)
    assert any("severity dropped" in r for r in e.reasons)
    with pytest.raises(ReclassifyRefused, match="severity applies only"):
        override(Current("TID-1", "commercial", "high"), level="non_commercial", severity="low")


def test_nothing_to_change_is_no_event_and_empty_requests_are_refused() -> None:
    assert override(Current("TID-1", "partner", "low"), severity="low") is None
    with pytest.raises(ReclassifyRefused, match="level, a new severity"):
        override(Current("TID-1", "partner", "low"))
    with pytest.raises(ReclassifyRefused, match="reason"):
        override(Current("TID-1", "partner", "low"), level="commercial", reason="  ")
    cleared = override(Current("TID-1", "partner", "low"), clear_severity=True)
    assert cleared.severity is None and cleared.level == "partner"
