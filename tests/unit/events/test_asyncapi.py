"""docs/asyncapi.yaml: valid AsyncAPI 3.0, fresh, and complete (every event type, its
sender and receivers, every reference resolving)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from tidekit.events import TOPICS, registry
from tidekit.events.asyncapi import render
from tidekit.kafka.acls import HANDLES

ROOT = Path(__file__).parents[3]
CONTRACT = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = ROOT / "tests" / "data" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CONTRACT.read_text())
    return document


@pytest.fixture(scope="module")
def validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(ASYNCAPI_SCHEMA.read_text()))


def test_the_contract_is_valid_asyncapi_3(contract: dict[str, Any], validator: Any) -> None:
    errors = [str(e)[:200] for e in validator.iter_errors(contract)]
    assert errors == []
    # ... and the validator does look inside: an AsyncAPI 2 style operation is refused.
    broken = copy.deepcopy(contract)
    broken["operations"]["intake.send"]["action"] = "publish"
    assert not validator.is_valid(broken)


def test_the_contract_is_fresh() -> None:
    assert CONTRACT.read_text() == render(), "docs/asyncapi.yaml is stale: run `make schemas`"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_reference_resolves(contract: dict[str, Any]) -> None:
    for ref in set(_refs(contract)):
        if ref.startswith("#/"):
            node: Any = contract
            for part in ref[2:].split("/"):
                node = node[part]  # KeyError names a dangling reference
        else:
            assert (CONTRACT.parent / ref).is_file(), ref


def test_each_event_type_is_a_message_with_its_sender_and_receivers(
    contract: dict[str, Any],
) -> None:
    messages = contract["components"]["messages"]
    assert set(messages) == {cls.event_type for cls in registry}
    for cls in registry:
        message = messages[cls.event_type]
        assert message["payload"]["$ref"].endswith(f"{cls.event_type}.v{cls.schema_version}.json")
        sender = message["x-sender"]
        assert cls.event_type in contract["channels"][sender]["messages"]
        assert message["x-receivers"] == [s for s in TOPICS if cls.event_type in HANDLES[s]]
        for receiver in message["x-receivers"]:
            operation = contract["operations"][f"{receiver}.receive.{sender}"]
            assert any(m["$ref"].endswith(f"/{cls.event_type}") for m in operation["messages"])
    addresses = {c["address"] for c in contract["channels"].values()}
    assert addresses == {*TOPICS.values(), *(f"{t}.dlq" for t in TOPICS.values())}
    trait = contract["components"]["messageTraits"]["cloudEvents"]["headers"]
    assert {"ce_id", "ce_subject", "ce_causationid"} <= set(trait["properties"])
