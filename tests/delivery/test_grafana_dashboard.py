"""The Grafana dashboard queries only metrics the services export, covers what an SRE
watches first, and ships in the chart as a ConfigMap for Grafana's sidecar."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.delivery.chart import CHART, REPO_ROOT, Manifest, of_kind, render
from tidemark_devstack.services import SERVICES

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "tidemark.json"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "and", "or", "unless", "offset", "le", "inf", "nan"}  # fmt: skip
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "summary": ("", "_sum", "_count", "_created")}  # fmt: skip


def exported_metric_names() -> set[str]:
    """Every series name the five services' processes expose on /metrics: what their apps
    (and all they import) register in prometheus_client's registry."""
    for package in SERVICES.values():
        importlib.import_module(f"{package}.app")
    return {
        metric.name + suffix
        for metric in REGISTRY.collect()
        if metric.name.startswith("tidemark_")
        for suffix in SUFFIXES.get(metric.type, ("",))
    }


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects (not functions, labels or keywords)."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end() :].lstrip()
        if rest.startswith("(") or match[0].lower() in PROMQL_WORDS:
            continue  # a function call or a keyword
        names.add(match[0])
    return names


def dashboard_exprs(dashboard: dict[str, object]) -> list[str]:
    panels = dashboard["panels"]
    assert isinstance(panels, list)
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_parser_finds_series_names_only() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, service) (rate(a_seconds_bucket{x="y", '
        'status=~"5.."}[5m]))) / on (pod) max without (le) (b_total offset 1h) > bool 0'
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total"}


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_metric_names()
    queried = {name for expr in dashboard_exprs(dashboard) for name in metric_names(expr)}
    assert queried and queried <= exported, sorted(queried - exported)
    # What an SRE looks at first: traffic and 5xx, consumers, outbox, DLQ, breach lateness.
    wanted = {"tidemark_http_requests_total", "tidemark_consumer_handled_total",
              "tidemark_outbox_pending", "tidemark_consumer_dlq_total",
              "tidemark_sla_timer_lateness_seconds_bucket"}  # fmt: skip
    assert wanted <= queried
    assert any('status=~"5.."' in expr for expr in dashboard_exprs(dashboard))


def test_deploy_grafana_is_the_charts_copy() -> None:
    assert DASHBOARD.resolve() == (CHART / "dashboards" / "tidemark.json").resolve()


def test_the_chart_ships_the_dashboard_only_when_asked(
    default_render: list[Manifest], helm_bin: Path, helm_home: Path
) -> None:
    def dashboards(manifests: list[Manifest]) -> list[Manifest]:
        return [m for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith(
            "-dashboard")]  # fmt: skip

    assert dashboards(default_render) == []
    shipped = dashboards(
        render(helm_bin, helm_home, sets=["metrics.grafanaDashboard.enabled=true",
                                          "metrics.grafanaDashboard.namespace=monitoring"])
    )  # fmt: skip
    assert len(shipped) == 1
    config_map = shipped[0]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    assert json.loads(config_map["data"]["tidemark.json"]) == json.loads(DASHBOARD.read_text())


@pytest.mark.parametrize("which", ["production_render"])
def test_the_production_example_ships_it(which: str, request: pytest.FixtureRequest) -> None:
    rendered: list[Manifest] = request.getfixturevalue(which)
    assert any(m["metadata"]["name"].endswith("-dashboard") for m in of_kind(rendered, "ConfigMap"))
