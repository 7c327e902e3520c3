"""Render the Helm chart offline with the pinned helm client (built once into
<state>/bin by deploy/helm/ensure-helm.sh) and parse what it renders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "deploy" / "helm" / "tidemark"
PRODUCTION_VALUES = CHART / "values-production.example.yaml"
ENSURE_HELM = REPO_ROOT / "deploy" / "helm" / "ensure-helm.sh"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion); objects valid there.
KUBERNETES_VERSION = "1.30.0"

Manifest = dict[str, Any]


def ensure_helm() -> Path:
    done = subprocess.run(
        ["bash", str(ENSURE_HELM)], capture_output=True, text=True, check=False, timeout=900
    )
    assert done.returncode == 0, f"building helm failed:\n{done.stderr[-3000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


def helm(helm_bin: Path, args: Sequence[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run helm with its cache and config under `home` (nothing written to ~)."""
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return subprocess.run(
        [str(helm_bin), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def render(
    helm_bin: Path, home: Path, values: Iterable[Path] = (), sets: Iterable[str] = ()
) -> list[Manifest]:
    args = ["template", "tidemark", str(CHART), "--namespace", "support",
            "--kube-version", KUBERNETES_VERSION]  # fmt: skip
    for path in values:
        args += ["-f", str(path)]
    for item in sets:
        args += ["--set", item]
    done = helm(helm_bin, args, home)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def of_kind(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {item["name"]: item for item in container.get("env", [])}


def deployment_of(manifests: Iterable[Manifest], service: str) -> Manifest:
    (found,) = [
        m for m in of_kind(manifests, "Deployment")
        if m["metadata"]["labels"]["app.kubernetes.io/component"] == service
    ]  # fmt: skip
    return found


def kubernetes_validate(
    manifests: Sequence[Manifest], folder: Path
) -> subprocess.CompletedProcess[str]:
    """`kubernetes-validate --strict` for the pinned Kubernetes over `manifests`, offline."""
    files = []
    for index, manifest in enumerate(manifests):
        path = folder / f"{index:02d}-{manifest['kind']}-{manifest['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(manifest))
        files.append(str(path))
    validator = Path(sys.executable).with_name("kubernetes-validate")
    return subprocess.run(
        [str(validator), "--strict", "--quiet", "-k", KUBERNETES_VERSION, *files],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
