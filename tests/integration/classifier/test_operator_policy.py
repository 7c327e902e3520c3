"""An operator's policy file sets the support periods the classifier enforces (SPEC 1.6:
the policy is data): a classifier of its own runs with a policy that gives commercial
licenses 90 days and non-commercial ones 7, where the shipped policy gives 365 and 30."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from tests.fixtures.access import ApiKeys
from tests.fixtures.backends import create_fresh_database, drop_database
from tests.fixtures.system import System, wait_ready
from tidekit.events import TOPICS
from tidekit.kafka.clients import ensure_topics

from .conftest import envelope, license_body, send, ticket, wait_classified

pytestmark = pytest.mark.integration

NAMESPACE = f"tcp{uuid.uuid4().hex[:8]}."


@dataclass
class OwnClassifier:
    url: str
    database_url: str


def operator_policy_file(folder: Path) -> Path:
    """The shipped policy with other support periods and its own version."""
    shipped = resources.files("tidekit.sla").joinpath("default_policy.yaml").read_text()
    document = yaml.safe_load(shipped)
    document["version"] = "operator-90d"
    for level in ("vip_request", "commercial_vip", "commercial"):
        document["levels"][level]["support_period"] = "90d"
    document["levels"]["non_commercial"]["support_period"] = "7d"
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def own_classifier(
    service_launcher: Any,
    system: System,
    _postgres: tuple[str, object],
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OwnClassifier]:
    """Its own database, consumer group and topic namespace: it sees only the submissions
    sent here, and the system's classifier (shipped policy) never sees them."""
    admin_url, _ = _postgres
    database_url = create_fresh_database(admin_url, prefix="tidemark_cls_policy")
    policy = operator_policy_file(tmp_path_factory.mktemp("operator-policy"))
    proc = service_launcher(
        "classifier",
        {
            "TIDEMARK_DATABASE_URL": database_url,
            "TIDEMARK_CLASSIFIER_TOPIC_NAMESPACE": NAMESPACE,
            "TIDEMARK_CLASSIFIER_POLICY_FILE": str(policy),
            "TIDEMARK_INTAKE_URL": system.urls["intake"],  # it asks intake about staff keys
        },
    )
    wait_ready(proc.url)
    yield OwnClassifier(proc.url, database_url)
    proc.kill()
    drop_database(admin_url, database_url)


@pytest.fixture
async def own_db(own_classifier: OwnClassifier) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        own_classifier.database_url, server_settings={"search_path": "classifier"}
    )
    yield conn
    await conn.close()


async def test_the_operators_support_periods_decide_entitlement(
    own_classifier: OwnClassifier,
    own_db: asyncpg.Connection,
    intake_producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    api_keys: ApiKeys,
) -> None:
    await ensure_topics(kafka_bootstrap, [NAMESPACE + TOPICS["intake"]], partitions=3)
    today = datetime.now(UTC).date()
    email = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    # (edition, days since purchase): under the shipped policy all four are active.
    licenses = {
        "commercial_recent": ("business", 60),
        "commercial_past_90d": ("business", 100),
        "demo_recent": ("demo", 3),
        "demo_past_7d": ("demo", 10),
    }
    keys = {name: f"LIC-{uuid.uuid4().hex[:8]}" for name in licenses}
    staff = {"X-Api-Key": api_keys.agent}
    async with httpx.AsyncClient(base_url=own_classifier.url, timeout=10, headers=staff) as api:
        policy = (await api.get("/v1/policy")).json()
        assert policy["version"] == "operator-90d"
        assert policy["levels"]["commercial"]["support_period"] == "90d"
        for name, (edition, age) in licenses.items():
            bought = (today - timedelta(days=age)).isoformat()
            body = license_body(edition=edition, emails=[email], purchase_date=bought)
            put = await api.put(
                f"/v1/licenses/{keys[name]}", json=body, headers=api_keys.header(api_keys.agent)
            )
            assert put.status_code == 201, put.text

    tickets = {name: ticket(email, keys[name]) for name in licenses}
    await send(intake_producer, [envelope(t) for t in tickets.values()], namespace=NAMESPACE)
    rows = await wait_classified(own_db, [t.tid for t in tickets.values()])
    decided = {r["tid"]: (r["level"], r["entitlement"], r["policy_version"]) for r in rows}

    assert {name: decided[t.tid] for name, t in tickets.items()} == {
        "commercial_recent": ("commercial", "active", "operator-90d"),
        "commercial_past_90d": ("commercial", "expired", "operator-90d"),
        "demo_recent": ("non_commercial", "active", "operator-90d"),
        "demo_past_7d": ("non_commercial", "expired", "operator-90d"),
    }
    ended = (today - timedelta(days=100) + timedelta(days=89)).isoformat()
    expired = next(r for r in rows if r["tid"] == tickets["commercial_past_90d"].tid)
    assert any(f"ended on {ended}" in why for why in json.loads(expired["reasons"]))


async def test_every_policy_it_ran_with_is_kept_by_version(
    own_classifier: OwnClassifier,
    own_db: asyncpg.Connection,
    service_launcher: Any,
    system: System,
    api_keys: ApiKeys,
) -> None:
    staff = {"X-Api-Key": api_keys.agent}
    # Written at start: the row is the signal (no pause "long enough").
    async with asyncio.timeout(30):
        while not await own_db.fetchval(
            "SELECT 1 FROM policy_versions WHERE version = 'operator-90d'"
        ):
            await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=own_classifier.url, timeout=10, headers=staff) as api:
        got = await api.get("/v1/policy/versions/operator-90d")
        assert got.status_code == 200, got.text
        assert got.json()["document"]["levels"]["commercial"]["support_period"] == "90d"
        assert got.json()["first_used_at"] is not None
        never = await api.get("/v1/policy/versions/2026.1")  # the shipped one: not here
        assert never.status_code == 404, never.text
    # Restarted on the same database with the shipped policy: both versions are answered,
    # the operator's from the stored history.
    shipped = service_launcher(
        "classifier",
        {
            "TIDEMARK_DATABASE_URL": own_classifier.database_url,
            "TIDEMARK_CLASSIFIER_TOPIC_NAMESPACE": NAMESPACE,
            "TIDEMARK_INTAKE_URL": system.urls["intake"],
        },
    )
    wait_ready(shipped.url)
    async with httpx.AsyncClient(base_url=shipped.url, timeout=10, headers=staff) as api:
        assert (await api.get("/v1/policy")).json()["version"] == "2026.1"
        old = await api.get("/v1/policy/versions/operator-90d")
        assert old.status_code == 200, old.text
        assert old.json()["document"]["levels"]["commercial"]["support_period"] == "90d"
        current = await api.get("/v1/policy/versions/2026.1")
        assert current.status_code == 200, current.text
        assert current.json()["document"]["levels"]["commercial"]["support_period"] == "365d"
    shipped.kill()
