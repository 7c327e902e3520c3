"""docker-compose.yaml, checked offline against the Compose specification's JSON Schema
(vendored from compose-go, tests/data/compose/README.md), and against `make run`'s settings."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.delivery.chart import REPO_ROOT
from tidemark_devstack.common import DEFAULT_PORTS
from tidemark_devstack.services import SERVICES, Endpoints

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
SCHEMA = REPO_ROOT / "tests" / "data" / "compose" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_refuses_a_broken_compose_file(compose: dict[str, Any]) -> None:
    """The check can fail: a misspelt key is caught."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["intake"]["enviroment"] = {"A": "b"}
    schema = json.loads(SCHEMA.read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_infrastructure_and_every_service_from_the_one_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    images = {services[name]["image"] for name in SERVICES}
    assert len(images) == 1
    for name, package in SERVICES.items():
        command = services[name]["command"]
        assert command[:3] == ["uvicorn", "--factory", f"{package}.app:create_app"]
        host_port = DEFAULT_PORTS[name][1]  # the port `make run` gives it
        assert f"127.0.0.1:{host_port}:8080" in services[name]["ports"]


def test_services_get_the_settings_make_run_gives_them(compose: dict[str, Any]) -> None:
    """The same variables as the dev stack's Endpoints.env() (values differ: hostnames)."""
    dev = Endpoints("postgresql://x", "k:1", "h", 1, "http://i", "key").env()
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert set(dev) <= set(env), set(dev) - set(env)
        assert env["TIDEMARK_ENV"] == "development"
        assert env["TIDEMARK_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["TIDEMARK_NOTIFIER_SMTP_HOST"] == "mailpit"
