"""The key bootstrap hook Job: off by default; on, it runs the bootstrap program with its
own ServiceAccount whose Role reaches only the two Secrets it fills (plus `create`, which
RBAC cannot restrict by name), and hook weights put the RBAC objects before the Job."""

from __future__ import annotations

from pathlib import Path

from tests.delivery.chart import (
    CHART,
    KUBERNETES_VERSION,
    Manifest,
    helm,
    of_kind,
    pod_spec,
    render,
)

HOOK = "helm.sh/hook"


def bootstrap_objects(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {
        m["kind"]: m
        for m in manifests
        if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "key-bootstrap"
        and m["kind"] in ("ServiceAccount", "Role", "RoleBinding", "Job")
    }


def test_off_by_default(default_render: list[Manifest]) -> None:
    assert bootstrap_objects(default_render) == {}
    assert not of_kind(default_render, "Role")


def test_least_rbac_and_the_job_uses_it(production_render: list[Manifest]) -> None:
    objects = bootstrap_objects(production_render)
    assert set(objects) == {"ServiceAccount", "Role", "RoleBinding", "Job"}
    account = objects["ServiceAccount"]["metadata"]["name"]
    rules = objects["Role"]["rules"]
    assert rules == [
        {"apiGroups": [""], "resources": ["secrets"],
         "resourceNames": ["tidemark-admin-key", "tidemark-service-keys"],
         "verbs": ["get", "patch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]  # fmt: skip
    binding = objects["RoleBinding"]
    assert binding["roleRef"]["name"] == objects["Role"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": "support"}
    ]
    job = objects["Job"]
    spec = pod_spec(job)
    assert spec["serviceAccountName"] == account and spec["automountServiceAccountToken"]
    (container,) = spec["containers"]
    assert container["command"] == [
        "python", "-m", "tidemark_intake.access.key_bootstrap",
        "--admin-secret", "tidemark-admin-key",
        "--service-keys-secret", "tidemark-service-keys",
        "--admin-name", "first-admin",
    ]  # fmt: skip
    # The RBAC objects exist before the Job runs, and all before the Deployments.
    weights = {kind: int(m["metadata"]["annotations"]["helm.sh/hook-weight"])
               for kind, m in objects.items()}  # fmt: skip
    assert max(weights[k] for k in ("ServiceAccount", "Role", "RoleBinding")) < weights["Job"]
    assert all(m["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
               for m in objects.values())  # fmt: skip
    # No other workload got API access.
    for deployment in of_kind(production_render, "Deployment"):
        assert pod_spec(deployment)["automountServiceAccountToken"] is False


def test_bad_secret_names_are_refused(helm_bin: Path, helm_home: Path) -> None:
    base = ["template", "tidemark", str(CHART), "--kube-version", KUBERNETES_VERSION,
            "--set", "keyBootstrap.enabled=true"]  # fmt: skip
    same = helm(helm_bin, [*base, "--set", "keyBootstrap.adminSecret=tidemark-service-keys"],
                helm_home)  # fmt: skip
    assert same.returncode != 0 and "must differ" in same.stderr
    bad = helm(helm_bin, [*base, "--set", "keyBootstrap.adminSecret=Bad_Name"], helm_home)
    assert bad.returncode != 0 and "must be a Secret name" in bad.stderr
    sets = ["keyBootstrap.enabled=true", "keyBootstrap.adminSecret=ops-admin-key"]
    renamed = render(helm_bin, helm_home, sets=sets)
    role = of_kind(renamed, "Role")[0]
    assert role["rules"][0]["resourceNames"] == ["ops-admin-key", "tidemark-service-keys"]
