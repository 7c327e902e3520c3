"""Reading the classification rules: an operator's file, or the shipped rules.yaml; either
with the shipped text model unless the file says `text_model: false`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .domain import Rules, RulesError, default_rules
from .domain.rules import shipped_model


def rules_document(path: Path | None) -> dict[str, Any]:
    if path is None:
        from importlib import resources

        text = resources.files("tidemark_classifier").joinpath("rules.yaml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise RulesError(f"{path or 'rules.yaml'}: not a mapping")
    return doc


def load_rules(path: Path | None) -> Rules:
    if path is None:
        return default_rules()
    try:
        return Rules.from_document(rules_document(path), model=shipped_model())
    except (OSError, yaml.YAMLError, RulesError) as exc:
        raise RulesError(f"classification rules {path}: {exc}") from exc
