"""Reading the classification rules: an operator's file, or the shipped rules.yaml; either
with the shipped text model unless the file says `text_model: false`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tidekit.datafile import load_yaml

from .domain import Rules, RulesError, default_rules
from .domain.rules import shipped_model


def rules_document(path: Path | None) -> dict[str, Any]:
    doc, origin = load_yaml(
        path, package="tidemark_classifier", default="rules.yaml", error=RulesError
    )
    if not isinstance(doc, dict):
        raise RulesError(f"{origin}: not a mapping")
    return doc


def load_rules(path: Path | None) -> Rules:
    if path is None:
        return default_rules()
    try:
        return Rules.from_document(rules_document(path), model=shipped_model())
    except (OSError, yaml.YAMLError, RulesError) as exc:
        raise RulesError(f"classification rules {path}: {exc}") from exc
