"""The chart's ServiceMonitor and PrometheusRule against the prometheus-operator CRDs'
own schemas (vendored in tests/data/crds, README there names the version), as the API
server would check them on `kubectl apply`: the openAPIV3Schema of version v1, and unknown
fields rejected as kubectl's default strict field validation rejects them (a structural
CRD schema knows every field unless it says x-kubernetes-preserve-unknown-fields)."""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.delivery.chart import Manifest, of_kind, render

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"
CRD_FILES = {
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
}


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every object of known properties closed to unknown ones, and its
    patterns in Python's dialect."""
    closed = dict(schema)
    if "properties" in schema:
        closed["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            closed["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        closed["additionalProperties"] = _strict(schema["additionalProperties"])
    if "items" in schema:
        closed["items"] = _strict(schema["items"])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            closed[key] = [_strict(branch) for branch in schema[key]]
    if "pattern" in schema:
        # The API server's Go regexps allow a flag group after `^` ("^(?i)(abort|warn)?$");
        # Python 3.11 wants it first, where it means the same.
        closed["pattern"] = re.sub(r"^\^\(\?([a-z]+)\)", r"(?\1)^", schema["pattern"])
    return closed


@cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    crd = yaml.safe_load((CRDS / CRD_FILES[kind]).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = _strict(v1["schema"]["openAPIV3Schema"])
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(manifest: Manifest) -> list[str]:
    found = _validator(manifest["kind"]).iter_errors(manifest)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found)


@pytest.mark.parametrize("kind", sorted(CRD_FILES))
def test_the_rendered_object_is_valid_under_its_crd(
    kind: str, production_render: list[Manifest]
) -> None:
    (manifest,) = of_kind(production_render, kind)
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert _errors(manifest) == []


def _broken_monitor(monitor: Manifest) -> Manifest:
    broken = copy.deepcopy(monitor)
    endpoint = broken["spec"]["endpoints"][0]
    endpoint["interval"] = "30 seconds"  # not a Prometheus duration
    endpoint["metricsPath"] = endpoint.pop("path")  # a field ServiceMonitor does not have
    del broken["spec"]["selector"]  # required
    return broken


def _broken_rule(rule: Manifest) -> Manifest:
    broken = copy.deepcopy(rule)
    alert = broken["spec"]["groups"][0]["rules"][0]
    del alert["expr"]  # required
    alert["for"] = "ten minutes"
    alert["severity"] = "page"  # belongs under labels
    return broken


def test_the_validation_catches_what_the_api_server_would_refuse(
    production_render: list[Manifest],
) -> None:
    (monitor,) = of_kind(production_render, "ServiceMonitor")
    (rule,) = of_kind(production_render, "PrometheusRule")
    monitor_errors = "\n".join(_errors(_broken_monitor(monitor)))
    assert "spec/endpoints/0/interval: '30 seconds' does not match" in monitor_errors
    assert "spec/endpoints/0: Additional properties are not allowed ('metricsPath'" in (
        monitor_errors
    )
    assert "spec: 'selector' is a required property" in monitor_errors
    rule_errors = "\n".join(_errors(_broken_rule(rule)))
    assert "spec/groups/0/rules/0: 'expr' is a required property" in rule_errors
    assert "spec/groups/0/rules/0/for: 'ten minutes' does not match" in rule_errors
    assert "Additional properties are not allowed ('severity'" in rule_errors


def test_a_wrong_value_in_values_is_caught_through_the_chart(
    helm_bin: Path, helm_home: Path
) -> None:
    manifests = render(
        helm_bin, helm_home,
        sets=["metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.interval=30sec"],
    )  # fmt: skip
    (monitor,) = of_kind(manifests, "ServiceMonitor")
    (error,) = _errors(monitor)
    assert error.startswith("spec/endpoints/0/interval: '30sec' does not match '^(0|")
