"""The policy file: shipped default, operators' own files, messages naming the bad field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tidekit.sla import PolicyError, load_policy, target_for
from tidekit.sla.policy import build_policy

DEFAULT = load_policy()


def policy_data() -> dict[str, Any]:
    return DEFAULT.model_dump()


def test_default_policy_reproduces_the_spec_tables() -> None:
    assert DEFAULT.version and DEFAULT.warning_share == 0.75
    expected_hours = {
        "vip_request": (4, "24x7"),
        "partner": (24, "business_days"),
        "commercial_vip": (24, "business_days"),
        "commercial": (24, "business_days"),
        "non_commercial": (48, "business_days"),
        "non_product": (72, "business_days"),
        "development": (14 * 24, "24x7"),
    }
    for level, (hours, calendar) in expected_hours.items():
        target = target_for(DEFAULT, level, None)  # type: ignore[arg-type]
        assert target.duration.total_seconds() == hours * 3600, level
        assert target.calendar.name == calendar, level
    with_severity = {"vip_request", "partner", "commercial_vip", "commercial"}
    for level in expected_hours:
        legs = target_for(DEFAULT, level, "low").legs  # type: ignore[arg-type]
        assert (len(legs) == 2) == (level in with_severity), level
    tier2 = DEFAULT.calendars["tier2"]
    assert tier2.week[0] == ((6 * 3600, 16 * 3600),) and tier2.week[5] == ()


def test_only_on_hold_pauses_by_default_and_an_operator_may_list_more(tmp_path: Path) -> None:
    # SPEC 1.5: "Only on_hold pauses a clock by default; which statuses pause is policy data"
    assert DEFAULT.pausing_statuses == frozenset({"on_hold"})
    data = policy_data()
    data["pausing_statuses"] = ["on_hold", "waiting_on_customer"]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_policy(path).pausing_statuses == frozenset({"on_hold", "waiting_on_customer"})
    data["pausing_statuses"] = []  # nothing pauses: a policy may say so
    assert build_policy(data).pausing_statuses == frozenset()
    del data["pausing_statuses"]  # an older file without the key: the SPEC default
    assert build_policy(data).pausing_statuses == frozenset({"on_hold"})


def test_an_operators_file_is_loaded(tmp_path: Path) -> None:
    data = policy_data()
    data["version"] = "acme-7"
    data["levels"]["commercial"]["max_response"] = "8h"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    policy = load_policy(path)
    assert policy.version == "acme-7"
    assert target_for(policy, "commercial", None).duration.total_seconds() == 8 * 3600
    assert target_for(policy, "commercial", None).policy_version == "acme-7"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(warning_share=1.5), "warning_share"),
        (
            lambda d: d["levels"]["commercial"].update(max_response="soon"),
            "levels.commercial.max_response",
        ),
        (
            lambda d: d["levels"]["commercial"].update(calendar="lunar"),
            "levels.commercial.calendar",
        ),
        (lambda d: d["calendars"]["tier2"]["hours"].update(mon=[["06:00", "25:00"]]), "tier2"),
        (lambda d: d["calendars"]["tier2"].update(time_zone="Mars/Base"), "Mars/Base"),
        (lambda d: d["calendars"]["business_days"]["holidays"].update(country="XX"), "XX"),
        (lambda d: d["severities"].pop("low"), "severities"),
        (lambda d: d["levels"].pop("development"), "levels"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d.update(pausing_statuses=["on_hold", "snoozed"]), "pausing_statuses.1"),
        (lambda d: d.update(pausing_statuses=["open"]), "pausing_statuses: Value error, 'open'"),
        (lambda d: d.update(pausing_statuses=["closed"]), "pausing_statuses: Value error, 'clo"),
        (lambda d: d.update(pausing_statuses=["on_hold", "on_hold"]), "pausing_statuses"),
        (lambda d: d.update(pausing_statuses="on_hold"), "pausing_statuses"),
    ],
)
def test_a_bad_policy_names_the_bad_field(change: Any, named: str, tmp_path: Path) -> None:
    data = policy_data()
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert named in str(info.value)
    assert str(path) in str(info.value)


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(path)


def test_build_policy_accepts_a_dict() -> None:
    assert build_policy(policy_data()).version == DEFAULT.version
