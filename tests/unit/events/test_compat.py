"""The compatibility guard: frozen baselines of every published schema version, and the
schema the code generates for each version checked against its baseline."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tidekit.events import registry
from tidekit.events.baselines import baseline_path, freeze_new, tampered
from tidekit.events.compat import breaking_changes
from tidekit.events.schemas import schema_documents

SCHEMAS = Path(__file__).parents[3] / "docs" / "schemas"

BASE: dict[str, Any] = {
    "$defs": {
        "Product": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"edition": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        }
    },
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "tid": {"type": "string"},
        "rating": {"type": "integer"},
        "level": {"enum": ["standard", "commercial"]},
        "product": {"$ref": "#/$defs/Product"},
        "note": {"default": "", "type": "string"},
    },
    "required": ["tid", "rating", "level", "product"],
}


def changed(edit: Any) -> dict[str, Any]:
    current = copy.deepcopy(BASE)
    edit(current)
    return current


def test_an_unchanged_schema_is_compatible() -> None:
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("rating"), "$.rating: field removed"),
        (lambda s: s["properties"].update(stars=s["properties"].pop("rating")),
         "$.rating: field removed"),
        (lambda s: s["properties"].update(rating={"type": "string"}), "$.rating: type changed"),
        (lambda s: s["properties"]["level"]["enum"].append("vip"), "$.level: new enum value"),
        (lambda s: (s["properties"].update(owner={"type": "string"}),
                    s["required"].append("owner")), "$.owner: new required field without"),
        (lambda s: s["required"].append("note") or s["properties"]["note"].pop("default"),
         "$.note: became required without a default"),
        (lambda s: s["$defs"]["Product"]["properties"].update(edition={"type": "integer"}),
         "$.product.edition: type changed"),
        (lambda s: s["properties"].update(extra={"default": 0, "type": "integer"}),
         "$.extra: new field, the baseline forbids additional ones"),
    ],
    ids=["removed", "renamed", "type", "enum", "new-required", "now-required", "nested",
         "new-field-forbidden"],
)  # fmt: skip
def test_breaking_changes_are_found(edit: Any, expected: str) -> None:
    found = breaking_changes(BASE, changed(edit))
    assert any(f.startswith(expected) for f in found), found


def test_a_new_field_with_a_default_is_fine_where_the_baseline_allows_more() -> None:
    open_base = {**copy.deepcopy(BASE), "additionalProperties": True}
    current = copy.deepcopy(open_base)
    current["properties"]["extra"] = {"default": 0, "type": "integer"}
    current["required"].append("extra")
    assert breaking_changes(open_base, current) == []
    current["properties"]["extra"].pop("default")
    assert breaking_changes(open_base, current) == ["$.extra: new required field without a default"]


def test_every_published_version_has_an_untouched_baseline() -> None:
    assert tampered(SCHEMAS) == []
    for cls in registry:
        for version in range(1, cls.schema_version + 1):
            assert baseline_path(SCHEMAS, cls.event_type, version).is_file(), (
                f"{cls.event_type} v{version} has no baseline: run `make schemas`"
            )


@pytest.mark.parametrize("name", sorted(schema_documents()))
def test_the_code_still_reads_and_writes_its_published_baseline(name: str) -> None:
    current = schema_documents()[name]
    event_type, version = current["x-event-type"], current["x-schema-version"]
    baseline = json.loads(baseline_path(SCHEMAS, event_type, version).read_text())
    assert breaking_changes(baseline, current) == [], (
        f"{event_type} v{version} changed incompatibly: give it a new schema version and an "
        "upcaster instead"
    )


def test_an_edited_baseline_is_found_and_make_schemas_never_rewrites_it(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    baseline = baseline_path(folder, "ticket.rated", 1)
    baseline.write_text(baseline.read_text().replace('"rating"', '"stars"'))
    assert freeze_new(folder) == []  # what `make schemas` does: nothing to freeze
    assert '"stars"' in baseline.read_text()
    assert tampered(folder) == ["ticket.rated/v1.json: changed after it was published"]
    baseline.unlink()
    assert tampered(folder) == ["ticket.rated/v1.json: in SHA256SUMS but gone"]
