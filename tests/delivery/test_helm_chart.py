"""The Helm chart, linted and rendered offline (no cluster): every core object is valid for
the oldest supported Kubernetes, and the rendered workloads keep the promises of
docs/deployment.md (probes, non-root, resources, pinned image, secrets only by reference)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.delivery.chart import (
    CHART,
    KUBERNETES_VERSION,
    PRODUCTION_VALUES,
    REPO_ROOT,
    Manifest,
    deployment_of,
    env_of,
    helm,
    kubernetes_validate,
    of_kind,
    pod_spec,
    render,
)

SERVICES = ("intake", "classifier", "sla-timer", "notifier", "escalation")
DEPLOYMENT_DOC = REPO_ROOT / "docs" / "deployment.md"
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
# Custom resources of the Prometheus operator: no schema in kubernetes-validate.
CUSTOM_API_GROUPS = ("monitoring.coreos.com/",)


@pytest.fixture(params=["default", "production"])
def rendered(
    request: pytest.FixtureRequest,
    default_render: list[Manifest],
    production_render: list[Manifest],
) -> list[Manifest]:
    return default_render if request.param == "default" else production_render


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return of_kind(manifests, "Deployment") + of_kind(manifests, "Job")


def test_helm_lint_passes_with_default_and_production_values(
    helm_bin: Path, helm_home: Path
) -> None:
    for extra in ([], ["-f", str(PRODUCTION_VALUES)]):
        done = helm(helm_bin, ["lint", "--strict", str(CHART), *extra], helm_home)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_core_object_is_valid_for_the_pinned_kubernetes(
    rendered: list[Manifest], tmp_path: Path
) -> None:
    core = [m for m in rendered if not m["apiVersion"].startswith(CUSTOM_API_GROUPS)]
    done = kubernetes_validate(core, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {m["kind"] for m in core}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "NetworkPolicy", "Job", "ServiceAccount"} <= kinds  # fmt: skip


def test_one_deployment_and_service_per_service(rendered: list[Manifest]) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        components = sorted(m["metadata"]["labels"]["app.kubernetes.io/component"]
                            for m in of_kind(rendered, kind))  # fmt: skip
        assert components == sorted(SERVICES), kind


def test_every_deployment_is_probed_non_root_bounded_and_pinned(rendered: list[Manifest]) -> None:
    for deployment in of_kind(rendered, "Deployment"):
        spec = pod_spec(deployment)
        name = deployment["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["topologySpreadConstraints"], name
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
        for container in spec["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"].startswith("/readyz"), name
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["resources"]["requests"]["cpu"], name
            assert container["resources"]["requests"]["memory"], name
            assert container["resources"]["limits"]["memory"], name
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            image = container["image"]
            assert not image.endswith(":latest") and (":" in image.rsplit("/", 1)[-1]), image
            # The command picks the service; exec form, no shell.
            assert container["command"][:2] == ["uvicorn", "--factory"], name
            assert container["command"][2].endswith(".app:create_app"), name


def test_intake_readiness_follows_postgres_alone_the_others_also_kafka(
    rendered: list[Manifest],
) -> None:
    probes = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]:
            pod_spec(d)["containers"][0]["readinessProbe"]["httpGet"]["path"]
        for d in of_kind(rendered, "Deployment")
    }  # fmt: skip
    intake = urlsplit(probes.pop("intake"))
    assert intake.path == "/readyz" and parse_qs(intake.query) == {"require": ["database"]}
    assert set(probes.values()) == {"/readyz"}


async def test_intakes_rendered_probe_answers_ready_while_kafka_is_down(
    default_render: list[Manifest],
) -> None:
    """The rendered path, asked of the real ops router with Kafka down and Postgres up."""
    from tests.unit.web.test_readiness import _get

    (container,) = pod_spec(deployment_of(default_render, "intake"))["containers"]
    path = container["readinessProbe"]["httpGet"]["path"]
    assert (await _get({"database": True, "kafka": False}, path)).status_code == 200
    assert (await _get({"database": False, "kafka": True}, path)).status_code == 503


def _documented_as(key: str) -> str:
    """A per-service key as docs/deployment.md names it: sla-timer-password is
    `<service>-password`, classifier is `<service>`."""
    for service in SERVICES:
        if key == service or key.startswith(service + "-"):
            return "<service>" + key[len(service) :]
    return key


def test_no_secret_in_values_every_secret_by_reference_and_documented(
    rendered: list[Manifest],
) -> None:
    assert not of_kind(rendered, "Secret"), "the chart makes no Secret: they exist beforehand"
    values_text = (CHART / "values.yaml").read_text() + PRODUCTION_VALUES.read_text()
    doc = DEPLOYMENT_DOC.read_text()
    for workload in workloads(rendered):
        spec = pod_spec(workload)
        for container in spec["containers"]:
            for name, item in env_of(container).items():
                if re.search(r"PASSWORD|SECRET|VAULT_KEYS|SERVICE_KEY|DATABASE_URL", name):
                    assert "value" not in item, f"{name} given in clear in values"
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in values_text, f"{ref['name']} not named in values"
                    key = _documented_as(ref["key"])
                    assert f"`{key}`" in doc, f"key {key} of {ref['name']} ({name}) not documented"
        for volume in spec["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] in values_text


def test_service_keys_and_kafka_users_are_per_service(default_render: list[Manifest]) -> None:
    for deployment in of_kind(default_render, "Deployment"):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        prefix = "TIDEMARK_" + service.upper().replace("-", "_") + "_"
        env = env_of(pod_spec(deployment)["containers"][0])
        user = env[prefix + "KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"]
        assert user["key"] == f"{service}-username"
        assert env[prefix + "KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == (
            f"{service}-password"
        )
        assert env["TIDEMARK_ENV"]["value"] == "production"
        if service == "intake":
            assert {"TIDEMARK_INTAKE_TOKEN_SECRET", "TIDEMARK_INTAKE_VAULT_KEYS",
                    "TIDEMARK_INTAKE_VAULT_ACTIVE_KEY"} <= set(env)  # fmt: skip
        else:
            assert env[prefix + "SERVICE_KEY"]["valueFrom"]["secretKeyRef"]["key"] == service


def test_intake_scales_on_cpu_and_has_no_fixed_replicas(rendered: list[Manifest]) -> None:
    (hpa,) = of_kind(rendered, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"].endswith("-intake")
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    for deployment in of_kind(rendered, "Deployment"):
        is_intake = deployment["metadata"]["name"].endswith("-intake")
        assert ("replicas" in deployment["spec"]) is not is_intake


def test_topics_job_is_a_hook_with_partitions_and_replication_from_values(
    default_render: list[Manifest], helm_bin: Path, helm_home: Path
) -> None:
    (job,) = of_kind(default_render, "Job")
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"]
    command = pod_spec(job)["containers"][0]["command"]
    assert command[:3] == ["python", "-m", "tidekit.kafka.topics"]
    assert command[3:] == ["--partitions", "12", "--replication-factor", "3"]
    changed = render(helm_bin, helm_home,
                     sets=["topics.partitions=24", "topics.replicationFactor=5"])  # fmt: skip
    (job,) = of_kind(changed, "Job")
    assert pod_spec(job)["containers"][0]["command"][3:] == [
        "--partitions", "24", "--replication-factor", "5"
    ]  # fmt: skip


def test_the_image_tag_latest_is_refused(helm_bin: Path, helm_home: Path) -> None:
    args = ["template", "t", str(CHART), "--kube-version", KUBERNETES_VERSION,
            "--set", "image.tag=latest"]  # fmt: skip
    done = helm(helm_bin, args, helm_home)
    assert done.returncode != 0 and "exact version" in done.stderr


def test_ssl_with_client_certificates_mounts_each_services_own(
    helm_bin: Path, helm_home: Path
) -> None:
    manifests = render(helm_bin, helm_home, sets=[
        "kafka.securityProtocol=SSL", "kafka.tls.caSecret=kafka-ca",
        "kafka.tls.clientCertSecrets.notifier=notifier-kafka-cert",
    ])  # fmt: skip
    notifier = deployment_of(manifests, "notifier")
    env = env_of(pod_spec(notifier)["containers"][0])
    certfile = env["TIDEMARK_NOTIFIER_KAFKA_SSL_CERTFILE"]["value"]
    assert certfile.startswith("/etc/tidemark/kafka-client/")
    assert not any("SASL" in name for name in env)
    secrets = {v["secret"]["secretName"] for v in pod_spec(notifier)["volumes"] if "secret" in v}
    assert secrets == {"kafka-ca", "notifier-kafka-cert"}


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#{1,6} +(.+?) *$", markdown, flags=re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_alerts_cover_the_five_signals_and_link_a_runbook_section(
    production_render: list[Manifest],
) -> None:
    (rule,) = of_kind(production_render, "PrometheusRule")
    (monitor,) = of_kind(production_render, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    exprs = " ".join(r["expr"] for r in alerts.values())
    for metric in ("kafka_consumergroup_lag", "tidemark_outbox_pending",
                   "tidemark_consumer_dlq_total", "tidemark_sla_timer_lateness_seconds_bucket",
                   "tidemark_http_requests_total"):  # fmt: skip
        assert metric in exprs
    anchors = _anchors(RUNBOOK.read_text())
    for name, alert in alerts.items():
        url = alert["annotations"]["runbook_url"]
        assert url.split("#")[0].endswith("docs/runbook.md"), name
        assert url.split("#")[1] in anchors, f"{name}: no section #{url.split('#')[1]}"


def test_default_values_leave_prometheus_objects_and_ingress_off(
    default_render: list[Manifest],
) -> None:
    kinds = {m["kind"] for m in default_render}
    assert not kinds & {"ServiceMonitor", "PrometheusRule", "Ingress"}


def test_the_helm_build_is_cached_and_not_repeated(helm_bin: Path) -> None:
    """With the binary present, ensure-helm.sh answers without Go on the PATH."""
    from tests.delivery.chart import ENSURE_HELM

    env = {"PATH": "/usr/bin:/bin"}
    if "TIDEMARK_STATE_DIR" in os.environ:
        env["TIDEMARK_STATE_DIR"] = os.environ["TIDEMARK_STATE_DIR"]
    done = subprocess.run(["/bin/bash", str(ENSURE_HELM)], env=env,
                          capture_output=True, text=True, check=False, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(helm_bin)
