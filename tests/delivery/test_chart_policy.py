"""The operator's support policy and rules files, shipped as a ConfigMap: only the files that
are set, mounted read-only only into the services that read them, pointed at by each
service's own setting, and loaded from there by the code that loads them in production.
Pods roll when the content they read changes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.delivery.chart import (
    Manifest,
    deployment_of,
    env_of,
    kubernetes_validate,
    of_kind,
    pod_spec,
    render,
)
from tests.delivery.test_chart_settings import SETTINGS, _environment, _use
from tidekit.sla import load_policy
from tidemark_classifier.rules_file import load_rules as load_classifier_rules
from tidemark_classifier.settings import ClassifierSettings
from tidemark_escalation.rules import load_rules as load_escalation_rules
from tidemark_escalation.settings import EscalationSettings

POLICY_DIR = "/etc/tidemark/policy"
POLICY_READERS = {"intake", "classifier", "sla-timer", "escalation"}
EVERY_SERVICE = POLICY_READERS | {"notifier"}


def _shipped(package: str, name: str, version: str) -> str:
    """A shipped file with another `version`, so loading it proves it was read from the mount."""
    text = resources.files(package).joinpath(name).read_text("utf-8")
    doc = yaml.safe_load(text)
    assert "version" in doc
    return text.replace(f'version: "{doc["version"]}"', f'version: "{version}"', 1)


POLICY = _shipped("tidekit.sla", "default_policy.yaml", "2026.9-operator")
CLASSIFIER_RULES = _shipped("tidemark_classifier", "rules.yaml", "2026.9-classifier")
ESCALATION_RULES = _shipped("tidemark_escalation", "default_rules.yaml", "2026.9-escalation")


def _render_with(helm_bin: Path, helm_home: Path, tmp_path: Path, **content: str) -> list[Manifest]:
    """Render with `policy.content`, `rules.classifier`, `rules.escalation` from `content`."""
    values: dict[str, dict[str, str]] = {"policy": {}, "rules": {}}
    if "policy" in content:
        values["policy"]["content"] = content["policy"]
    for which in ("classifier", "escalation"):
        if which in content:
            values["rules"][which] = content[which]
    path = tmp_path / f"values-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(values))
    return render(helm_bin, helm_home, [path])


@pytest.fixture(scope="module")
def full_render(
    helm_bin: Path, helm_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Manifest]:
    return _render_with(
        helm_bin, helm_home, tmp_path_factory.mktemp("values"),
        policy=POLICY, classifier=CLASSIFIER_RULES, escalation=ESCALATION_RULES,
    )  # fmt: skip


def _policy_env(container: Manifest) -> dict[str, str]:
    return {
        name: item["value"] for name, item in env_of(container).items()
        if str(item.get("value", "")).startswith(POLICY_DIR)
    }  # fmt: skip


def _policy_mounts(deployment: Manifest) -> list[Manifest]:
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    return [
        {**mount, "volume": volumes[mount["name"]]} for mount in container["volumeMounts"]
        if "configMap" in volumes[mount["name"]]
    ]  # fmt: skip


def test_a_set_policy_and_rules_become_one_configmap_of_exactly_those_files(
    full_render: list[Manifest],
) -> None:
    (config_map,) = [
        m for m in of_kind(full_render, "ConfigMap") if m["metadata"]["name"] == "tidemark-policy"
    ]
    assert config_map["data"] == {
        "policy.yaml": POLICY,
        "classifier-rules.yaml": CLASSIFIER_RULES,
        "escalation-rules.yaml": ESCALATION_RULES,
    }


def test_the_configmap_and_the_deployments_mounting_it_are_valid_kubernetes(
    full_render: list[Manifest], tmp_path: Path
) -> None:
    workloads = of_kind(full_render, "ConfigMap") + of_kind(full_render, "Deployment")
    done = kubernetes_validate(workloads, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_service_mounts_and_points_at_only_the_files_it_reads(
    full_render: list[Manifest],
) -> None:
    expected = {
        "intake": {"TIDEMARK_INTAKE_POLICY_FILE": f"{POLICY_DIR}/policy.yaml"},
        "classifier": {
            "TIDEMARK_CLASSIFIER_POLICY_FILE": f"{POLICY_DIR}/policy.yaml",
            "TIDEMARK_CLASSIFIER_RULES_FILE": f"{POLICY_DIR}/classifier-rules.yaml",
        },
        "sla-timer": {"TIDEMARK_SLA_TIMER_POLICY_FILE": f"{POLICY_DIR}/policy.yaml"},
        "escalation": {
            "TIDEMARK_ESCALATION_POLICY_FILE": f"{POLICY_DIR}/policy.yaml",
            "TIDEMARK_ESCALATION_RULES_FILE": f"{POLICY_DIR}/escalation-rules.yaml",
        },
        "notifier": {},
    }
    for service in EVERY_SERVICE:
        deployment = deployment_of(full_render, service)
        (container,) = pod_spec(deployment)["containers"]
        assert _policy_env(container) == expected[service], service
        mounts = _policy_mounts(deployment)
        if service == "notifier":
            assert mounts == [], "the notifier reads no policy"
            continue
        (mount,) = mounts
        assert mount["mountPath"] == POLICY_DIR and mount["readOnly"] is True, service
        assert mount["volume"]["configMap"]["name"] == "tidemark-policy"


def test_only_the_escalation_rules_set_touch_only_escalation(
    helm_bin: Path, helm_home: Path, tmp_path: Path
) -> None:
    manifests = _render_with(helm_bin, helm_home, tmp_path, escalation=ESCALATION_RULES)
    (config_map,) = of_kind(manifests, "ConfigMap")
    assert set(config_map["data"]) == {"escalation-rules.yaml"}
    for service in EVERY_SERVICE:
        deployment = deployment_of(manifests, service)
        (container,) = pod_spec(deployment)["containers"]
        if service == "escalation":
            assert _policy_env(container) == {
                "TIDEMARK_ESCALATION_RULES_FILE": f"{POLICY_DIR}/escalation-rules.yaml"
            }
            assert len(_policy_mounts(deployment)) == 1
        else:
            assert _policy_env(container) == {}, service
            assert _policy_mounts(deployment) == [], service


def test_nothing_set_ships_the_packaged_files(default_render: list[Manifest]) -> None:
    assert of_kind(default_render, "ConfigMap") == []
    for service in EVERY_SERVICE:
        deployment = deployment_of(default_render, service)
        (container,) = pod_spec(deployment)["containers"]
        assert _policy_env(container) == {} and _policy_mounts(deployment) == []
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        assert "checksum/policy" not in annotations


def test_changed_content_rolls_exactly_the_pods_that_read_it(
    helm_bin: Path, helm_home: Path, tmp_path: Path
) -> None:
    before = _render_with(helm_bin, helm_home, tmp_path, policy=POLICY, classifier=CLASSIFIER_RULES)
    after = _render_with(
        helm_bin, helm_home, tmp_path,
        policy=POLICY, classifier=CLASSIFIER_RULES.replace("2026.9-classifier", "2026.10"),
    )  # fmt: skip

    def checksum(manifests: list[Manifest], service: str) -> str | None:
        template = deployment_of(manifests, service)["spec"]["template"]
        found: str | None = template["metadata"].get("annotations", {}).get("checksum/policy")
        return found

    changed = {s for s in EVERY_SERVICE if checksum(before, s) != checksum(after, s)}
    assert changed == {"classifier"}
    assert all(checksum(before, s) for s in POLICY_READERS)
    assert checksum(before, "notifier") is None


@pytest.mark.parametrize("service", sorted(POLICY_READERS))
def test_the_rendered_env_loads_the_mounted_files_in_the_services_own_settings(
    service: str, full_render: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (config_map,) = of_kind(full_render, "ConfigMap")
    (container,) = pod_spec(deployment_of(full_render, service))["containers"]
    environment = _environment(container, tmp_path)
    for key, text in config_map["data"].items():  # the mount, as the kubelet projects it
        (tmp_path / "policy" / key).write_text(text)
    _use(monkeypatch, environment)
    settings = SETTINGS[service]()
    policy_file = getattr(settings, "policy_file", None)
    assert policy_file == tmp_path / "policy" / "policy.yaml"
    assert load_policy(policy_file).version == "2026.9-operator"
    if isinstance(settings, ClassifierSettings):
        rules = load_classifier_rules(settings.rules_file)
        assert rules.version.startswith("2026.9-classifier+")  # + the text model's id
    if isinstance(settings, EscalationSettings):
        assert load_escalation_rules(settings.rules_file).version == "2026.9-escalation"
