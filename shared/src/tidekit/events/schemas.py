"""Publishes one JSON Schema per event type and version: `python -m tidekit.events.schemas DIR`.

The files are checked in (docs/schemas/) and a test fails when they are out of date, so
a change to an event model is always a visible change to the published contract. Only the
current version of each type is written; the files of older versions stay as they were
released (records of them are still on the topics, read through upcasters), and a test
checks that every older version still has its file. Each (type, version) is also frozen
once as a baseline under published/ (tidekit.events.baselines), which this never rewrites.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from . import registry
from .envelope import SCHEMA_URI


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name → schema document, for every registered event type."""
    docs: dict[str, dict[str, Any]] = {}
    for cls in registry:
        schema = cls.model_json_schema(mode="serialization")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_URI.format(type=cls.event_type, version=cls.schema_version),
            "x-event-type": cls.event_type,
            "x-schema-version": cls.schema_version,
            **schema,
        }
        docs[f"{cls.event_type}.v{cls.schema_version}.json"] = schema
    return docs


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = folder / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
    paths = write(folder)
    print(f"wrote {len(paths)} event schemas to {folder}")
    from .baselines import freeze_new  # (imports this module)

    for frozen in freeze_new(folder):
        print(f"froze the baseline {frozen} (never rewritten)")
    # The AsyncAPI document refers to these files (./schemas/...): it lives beside them.
    from .asyncapi import render as render_asyncapi  # imports the Kafka tables: only here

    contract = folder.parent / "asyncapi.yaml"
    contract.write_text(render_asyncapi(), encoding="utf-8")
    print(f"wrote {contract}")


if __name__ == "__main__":
    main()
