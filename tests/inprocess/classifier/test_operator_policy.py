"""An operator's policy file sets the support periods the classifier enforces (SPEC 1.6:
the policy is data): a classifier with a policy that gives commercial licenses 90 days and
non-commercial ones 7, where the shipped policy gives 365 and 30; and every policy it ran
with is kept by version (GET /v1/policy/versions/{version})."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.fixtures.backends import fresh_database
from tidekit.runtime import ServiceRuntime

from .conftest import Classifier, StartClassifier, days_before, new_key, ticket


@pytest.fixture(scope="module")
def operator_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped policy with other support periods and its own version."""
    shipped = resources.files("tidekit.sla").joinpath("default_policy.yaml").read_text()
    document = yaml.safe_load(shipped)
    document["version"] = "operator-90d"
    for level in ("vip_request", "commercial_vip", "commercial"):
        document["levels"][level]["support_period"] = "90d"
    document["levels"]["non_commercial"]["support_period"] = "7d"
    path = tmp_path_factory.mktemp("operator-policy") / "policy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture
def own_db(_postgres: tuple[str, object]) -> Iterator[str]:
    """A database of its own: which policy versions it holds is the point."""
    with fresh_database(_postgres, "tidemark_cls_inproc_policy") as url:
        yield url


async def record_policy_in_force(classifier: Classifier) -> None:
    """What the service does once its database is up: its start-up workers (the policy
    recorder, which ends after one write)."""
    runtime: ServiceRuntime = classifier.runtime
    for worker in runtime.workers:
        await worker(runtime)


async def test_the_operators_support_periods_decide_entitlement(
    start_classifier: StartClassifier, operator_policy: Path
) -> None:
    classifier = await start_classifier(policy_file=operator_policy)
    policy = (await classifier.http.get("/v1/policy")).json()
    assert policy["version"] == "operator-90d"
    assert policy["levels"]["commercial"]["support_period"] == "90d"
    email = f"grace-{new_key()}@example.com"
    # (edition, days since purchase): under the shipped policy all four are active.
    licenses = {
        "commercial_recent": ("business", 60),
        "commercial_past_90d": ("business", 100),
        "demo_recent": ("demo", 3),
        "demo_past_7d": ("demo", 10),
    }
    keys = {name: new_key() for name in licenses}
    for name, (edition, age) in licenses.items():
        put = await classifier.put_license(
            keys[name], edition=edition, emails=[email], purchase_date=days_before(age)
        )
        assert put.status_code == 201, put.text

    tickets = {name: ticket(email, keys[name]) for name in licenses}
    await classifier.deliver(*tickets.values())
    rows = {name: await classifier.classification(t.tid) for name, t in tickets.items()}
    decided = {n: (r["level"], r["entitlement"], r["policy_version"]) for n, r in rows.items()}
    assert decided == {
        "commercial_recent": ("commercial", "active", "operator-90d"),
        "commercial_past_90d": ("commercial", "expired", "operator-90d"),
        "demo_recent": ("non_commercial", "active", "operator-90d"),
        "demo_past_7d": ("non_commercial", "expired", "operator-90d"),
    }
    ended = days_before(100 - 89)
    reasons = json.loads(rows["commercial_past_90d"]["reasons"])
    assert any(f"ended on {ended}" in why for why in reasons), reasons


async def test_every_policy_it_ran_with_is_kept_by_version(
    start_classifier: StartClassifier, operator_policy: Path, own_db: str
) -> None:
    operator = await start_classifier(policy_file=operator_policy, database_url=own_db)
    await record_policy_in_force(operator)
    got = await operator.http.get("/v1/policy/versions/operator-90d")
    assert got.status_code == 200, got.text
    assert got.json()["document"]["levels"]["commercial"]["support_period"] == "90d"
    assert got.json()["first_used_at"] is not None
    never = await operator.http.get("/v1/policy/versions/2026.1")  # the shipped one: not here
    assert never.status_code == 404, never.text

    # Restarted on the same database with the shipped policy: both versions are answered,
    # the operator's from the stored history.
    shipped = await start_classifier(database_url=own_db)
    await record_policy_in_force(shipped)
    assert (await shipped.http.get("/v1/policy")).json()["version"] == "2026.1"
    old = await shipped.http.get("/v1/policy/versions/operator-90d")
    assert old.status_code == 200, old.text
    assert old.json()["document"]["levels"]["commercial"]["support_period"] == "90d"
    current = await shipped.http.get("/v1/policy/versions/2026.1")
    assert current.status_code == 200, current.text
    assert current.json()["document"]["levels"]["commercial"]["support_period"] == "365d"
