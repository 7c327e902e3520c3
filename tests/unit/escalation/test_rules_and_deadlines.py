"""The rules file (validated data, bad files fail naming the field) and learnt deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tidekit.events.sla import ClockMet, ClockPaused, ClockResumed, ClockStarted, TargetChanged
from tidekit.runtime import ServiceRuntime
from tidekit.store.migrate import MigrationSet
from tidemark_escalation.deadlines import Due, next_due
from tidemark_escalation.rules import RulesError, load_rules, parse_rules
from tidemark_escalation.service import EscalationService
from tidemark_escalation.settings import EscalationSettings

from .factories import POLICY

DEFAULT = yaml.safe_load(
    (
        Path(__file__).parents[3] / "services/escalation/src/tidemark_escalation/default_rules.yaml"
    ).read_text()
)


def test_default_rules_load() -> None:
    rules = load_rules()
    assert rules.tier2_calendar == "tier2"
    assert rules.on_classified[-1].rule == "default:tier1"
    assert rules.development.direct_levels == ("commercial_vip",)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["on_breach"][0].update(to="tier3"), "on_breach.0.to"),
        (lambda d: d["on_classified"][0]["when"].update(severity=["urgent"]), "severity"),
        (lambda d: d["on_classified"][0]["when"].update(weekday="mon"), "when.weekday"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["on_classified"].pop(), "on_classified"),
        (lambda d: d["on_breach"].append(dict(d["on_breach"][0])), "repeated"),
        (lambda d: d["on_classified"][1].update(note="opens {when}"), "on_classified.1.note"),
        (lambda d: d["development"].update(direct_levels=["gold"]), "development.direct_levels"),
    ],
)
def test_bad_rules_fail_naming_the_field(change: Any, named: str, tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(DEFAULT))
    change(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(RulesError) as bad:
        load_rules(path)
    assert str(path) in str(bad.value) and named in str(bad.value)


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    (tmp_path / "r.yaml").write_text("on_classified: [")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(tmp_path / "r.yaml")


def test_tier2_calendar_must_exist_in_the_policy() -> None:
    rules = parse_rules({**DEFAULT, "tier2_calendar": "night_shift"})
    runtime = ServiceRuntime(
        EscalationSettings(), MigrationSet("escalation", "tidemark_escalation")
    )
    with pytest.raises(RulesError, match=r"tier2_calendar.*night_shift"):
        EscalationService(runtime, EscalationSettings(), rules, POLICY)


T = datetime(2026, 11, 23, 9, tzinfo=UTC)
OB = {"tid": "TID-1", "obligation_id": "TID-1/1"}


def started(n: int = 1, deadline: datetime = T + timedelta(hours=24)) -> ClockStarted:
    return ClockStarted(
        tid="TID-1", obligation_id=f"TID-1/{n}", kind="first_response", level="commercial",
        severity="medium", started_at=T, deadline=deadline, warning_at=T, target_seconds=86400,
        calendar="business_days", policy_version="2026.1",
    )  # fmt: skip


def test_deadline_follows_the_open_obligation() -> None:
    due = next_due(None, started())
    assert due == Due("TID-1/1", T + timedelta(hours=24))
    changed = TargetChanged(
        **OB, level="commercial", severity="high", old_deadline=T + timedelta(hours=24),
        new_deadline=T + timedelta(hours=1), old_target_seconds=86400, new_target_seconds=3600,
        policy_version="2026.1", changed_at=T,
    )  # fmt: skip
    due = next_due(due, changed)
    assert due == Due("TID-1/1", T + timedelta(hours=1))
    due = next_due(due, ClockPaused(**OB, paused_at=T, elapsed_seconds=60))
    assert due == Due("TID-1/1", None)
    resumed_at = T + timedelta(hours=3)
    due = next_due(
        due, ClockResumed(**OB, resumed_at=resumed_at, deadline=resumed_at, warning_at=resumed_at)
    )
    assert due == Due("TID-1/1", resumed_at)
    # an older obligation's events never touch the newer one
    newer = next_due(due, started(2, T + timedelta(days=2)))
    assert next_due(newer, ClockMet(**OB, met_at=T, deadline=None, elapsed_seconds=1)) == newer
    assert next_due(due, ClockMet(**OB, met_at=T, deadline=None, elapsed_seconds=1)) is None
