"""Classification rules as data: parsed from a document (the rules YAML), applied to text.

Pure: `Rules.from_document` takes an already-parsed mapping; reading the file is the shell's
job (rules_file.py). Every match carries the rule id and the phrase it matched, which is
what the decisions turn into reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, get_args

import yaml

from tidekit.events.vocabulary import Category, Severity
from tidekit.literals import one_of

from .prefilter import could_match, folded
from .text_model import TextModel

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")  # most severe first
CATEGORIES: tuple[Category, ...] = get_args(Category)
_QUOTE_STARTS = re.compile(
    r"^(-{2,}\s*original message\s*-{2,}|on .{0,200}wrote:\s*$|from:\s.+@.+)", re.IGNORECASE
)


class RulesError(ValueError):
    """The rules document is not valid; the message names the offending path."""


@dataclass(frozen=True)
class Rule:
    """Matches when any of `patterns` matches, or when every group of `all_of` has a pattern
    that matches somewhere in the text (evidence that need not be adjacent: "upgraded to
    24.2 last night" ... "every product page gives a fatal error")."""

    id: str
    patterns: tuple[re.Pattern[str], ...]
    severity: Severity | None = None
    category: Category | None = None
    all_of: tuple[tuple[re.Pattern[str], ...], ...] = ()


@dataclass(frozen=True)
class Match:
    rule: str
    phrase: str

    def quoted(self) -> str:
        return f'"{self.phrase}"'


@dataclass(frozen=True)
class Rules:
    version: str
    vip_coupons: Mapping[str, int]
    severity: tuple[Rule, ...]
    urgent: tuple[Rule, ...]
    out_of_scope: tuple[Rule, ...]
    categories: tuple[Rule, ...]  # one rule per category, in priority order
    model: TextModel | None = None  # asked beside the urgent and out-of-scope rules

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], model: TextModel | None = None) -> Rules:
        """The rules of `doc`, with `model` unless the document says `text_model: false`.
        The version recorded with each classification names the model too."""
        if not isinstance(doc, Mapping):
            raise RulesError("the rules document must be a mapping")
        version = doc.get("version")
        if not isinstance(version, str) or not version:
            raise RulesError("version: a non-empty string is required")
        use_model = doc.get("text_model", True)
        if not isinstance(use_model, bool):
            raise RulesError("text_model: true (the default) or false")
        model = model if use_model else None
        coupons = doc.get("vip_coupons") or {}
        if not isinstance(coupons, Mapping) or not all(
            isinstance(v, int) and v >= 0 for v in coupons.values()
        ):
            raise RulesError("vip_coupons: a mapping of edition to a count >= 0")
        categories = doc.get("categories") or {}
        if not isinstance(categories, Mapping):
            raise RulesError("categories: a mapping of category to patterns")
        cat_rules = []
        for name, patterns in categories.items():
            category = one_of(CATEGORIES, name)
            if category is None:
                raise RulesError(f"categories.{name}: not a category (one of {CATEGORIES})")
            cat_rules.append(
                Rule(name, _compile(f"categories.{name}", patterns), category=category)
            )
        return cls(
            version=f"{version}+{model.version}" if model else version,
            vip_coupons=dict(coupons),
            severity=_rules(doc, "severity", need_severity=True),
            urgent=_rules(doc, "urgent"),
            out_of_scope=_rules(doc, "out_of_scope"),
            categories=tuple(cat_rules),
            model=model,
        )


def _rules(doc: Mapping[str, Any], key: str, need_severity: bool = False) -> tuple[Rule, ...]:
    items = doc.get(key) or []
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise RulesError(f"{key}: a list of rules")
    out = []
    for n, item in enumerate(items):
        where = f"{key}[{n}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise RulesError(f"{where}: a rule needs an id")
        severity = item.get("severity")
        if need_severity and severity not in SEVERITIES:
            raise RulesError(f"{where}.severity: one of {SEVERITIES}")
        category = item.get("category")
        if category is not None and category not in CATEGORIES:
            raise RulesError(f"{where}.category: one of {CATEGORIES}")
        groups = item.get("all_of")
        if groups is not None and (
            not isinstance(groups, Sequence) or isinstance(groups, str) or len(groups) < 2
        ):
            raise RulesError(f"{where}.all_of: a list of at least two pattern lists")
        patterns = item.get("patterns")
        out.append(
            Rule(
                item["id"],
                _compile(f"{where}.patterns", patterns)
                if patterns is not None or not groups
                else (),
                severity=severity,
                category=category,
                all_of=tuple(
                    _compile(f"{where}.all_of[{g}]", group) for g, group in enumerate(groups or [])
                ),
            )
        )
    return tuple(out)


def _compile(where: str, patterns: object) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, Sequence) or isinstance(patterns, str) or not patterns:
        raise RulesError(f"{where}: a non-empty list of patterns")
    compiled = []
    for n, p in enumerate(patterns):
        try:
            compiled.append(re.compile(str(p), re.IGNORECASE))
        except re.error as exc:
            raise RulesError(f"{where}[{n}]: {exc}") from None
    return tuple(compiled)


def own_words(text: str) -> str:
    """The customer's own words: quoted history and the signature cut off."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if line.rstrip() == "--" or _QUOTE_STARTS.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def first_match(rule: Rule, text: str) -> Match | None:
    # A pattern that cannot match the text is not run (prefilter: most of them, cheaply).
    folded_text = folded(text)
    for pattern in rule.patterns:
        found = _search(pattern, text, folded_text)
        if found:
            return Match(rule.id, _phrase(found))
    if rule.all_of:
        phrases = []
        for group in rule.all_of:
            found = next((f for p in group if (f := _search(p, text, folded_text))), None)
            if found is None:
                return None
            phrases.append(_phrase(found))
        return Match(rule.id, " ... ".join(phrases))
    return None


def _search(pattern: re.Pattern[str], text: str, folded_text: str) -> re.Match[str] | None:
    return pattern.search(text) if could_match(pattern, folded_text) else None


def _phrase(found: re.Match[str]) -> str:
    return " ".join(found.group(0).split())


def all_matches(rule: Rule, text: str) -> list[Match]:
    out = []
    folded_text = folded(text)
    for pattern in rule.patterns:
        if not could_match(pattern, folded_text):
            continue
        for found in pattern.finditer(text):
            out.append(Match(rule.id, _phrase(found)))
    return out


@cache
def shipped_model() -> TextModel:
    """The text model shipped with the classifier (tidemark_classifier/text_model.json)."""
    text = resources.files("tidemark_classifier").joinpath("text_model.json").read_text("utf-8")
    return TextModel.from_document(json.loads(text))


@cache
def default_rules() -> Rules:
    """The rules shipped with the classifier (tidemark_classifier/rules.yaml), with the
    shipped text model."""
    text = resources.files("tidemark_classifier").joinpath("rules.yaml").read_text("utf-8")
    return Rules.from_document(yaml.safe_load(text), model=shipped_model())
