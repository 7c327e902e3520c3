"""The environment the chart gives each pod, read by the code that will read it: every
Deployment's env builds its service's own settings class with TIDEMARK_ENV=production and
no secret missing, and the topic Job's env builds a SASL connection as the admin. Secret
references are filled with stand-ins, files under /etc/tidemark with temporary ones."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.delivery.chart import Manifest, deployment_of, env_of, of_kind, pod_spec
from tidekit.kafka.connection import KafkaConnection
from tidekit.kafka.topics import TopicAdminSettings
from tidekit.settings import ServiceSettings
from tidemark_classifier.settings import ClassifierSettings
from tidemark_escalation.settings import EscalationSettings
from tidemark_intake.settings import IntakeSettings
from tidemark_notifier.settings import NotifierSettings
from tidemark_sla_timer.settings import SlaTimerSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "classifier": ClassifierSettings,
    "sla-timer": SlaTimerSettings,
    "notifier": NotifierSettings,
    "escalation": EscalationSettings,
}
VAULT_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def _stand_in(secret: str, key: str) -> str:
    """A value of the right shape for what a Secret's key holds."""
    if key == "url":
        return "postgresql://tidemark:pw@db.example.com:5432/tidemark"
    if key == "vault-keys":
        return json.dumps({"k1": VAULT_KEY})
    if key == "vault-active-key":
        return "k1"
    if key == "alert-webhooks":  # JSON with each hook's signing secret (values.yaml, notifier)
        return json.dumps({"*": {"url": "https://hooks.example.com/t", "secret": "s3cret"}})
    return f"{secret}/{key}/stand-in-value"


def _environment(container: Manifest, files: Path) -> dict[str, str]:
    environment = {}
    for name, item in env_of(container).items():
        if "value" in item:
            value = str(item["value"])
            if value.startswith("/etc/tidemark/"):
                path = files / value.removeprefix("/etc/tidemark/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("stand-in PEM\n")
                value = str(path)
            environment[name] = value
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            environment[name] = _stand_in(ref["name"], ref["key"])
    return environment


def _use(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    monkeypatch.delenv("TIDEMARK_ENV", raising=False)  # tests/conftest.py sets development
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_each_deployments_env_starts_its_service_in_production(
    service: str,
    production_render: list[Manifest],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (container,) = pod_spec(deployment_of(production_render, service))["containers"]
    _use(monkeypatch, _environment(container, tmp_path))
    settings = SETTINGS[service]()
    assert settings.env == "production"
    settings.check_secrets()  # raises SystemExit naming what is missing
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_username == f"tidemark-kafka-users/{service}-username/stand-in-value"
    assert settings.kafka_ssl_cafile is not None and settings.kafka_ssl_cafile.is_file()
    assert settings.topic_namespace == "prod."
    assert settings.intake_url == "http://tidemark-intake:8080"
    # database.poolMin/poolMax and topics.partitions of the production example
    assert (settings.db_pool_min, settings.db_pool_max) == (1, 8)
    assert settings.topic_partitions == 12
    assert settings.db_statement_cache_size == 100  # 0 only behind PgBouncer
    if isinstance(settings, NotifierSettings):
        assert settings.smtp_host == "smtp-relay.example.com" and settings.smtp_port == 587
        (hook,) = settings.alert_webhooks.values()
        assert hook.secret is not None and hook.secret.get_secret_value() == "s3cret"


def test_the_topic_jobs_env_connects_as_the_admin(
    default_render: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (job,) = of_kind(default_render, "Job")
    (container,) = pod_spec(job)["containers"]
    _use(monkeypatch, _environment(container, tmp_path))
    connection = KafkaConnection.from_settings(TopicAdminSettings())
    assert connection.security_protocol == "SASL_SSL"
    assert connection.sasl_username == "tidemark-kafka-admin/username/stand-in-value"
