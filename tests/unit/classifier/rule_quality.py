"""Measuring the classifier's text decisions (rules and text model together) against the
labelled requests in tests/data/classifier.

`requests.jsonl` (334) is the tuning set: the rules were tuned and the text model trained on
it. `requests_holdout.jsonl` (100, ids x001-x100) was written by an author who never saw the
rules or the other files, and was read only after the rules and the model's design were
fixed; never tune against it. The history is in docs/classifier.md.
Run `python -m tests.unit.classifier.rule_quality [-v]` for the full table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tidemark_classifier.domain import Rules, default_rules, scope_for
from tidemark_classifier.domain.rules import own_words

DATA = Path(__file__).parents[2] / "data" / "classifier"
TUNING, HOLDOUT = DATA / "requests.jsonl", DATA / "requests_holdout.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class PR:
    precision: float
    recall: float
    support: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def per_class(pairs: Iterable[tuple[object, object]]) -> dict[object, PR]:
    pairs = list(pairs)
    labels = {t for t, _ in pairs} | {p for _, p in pairs}
    out = {}
    for label in labels:
        tp = sum(1 for t, p in pairs if t == label and p == label)
        predicted = sum(1 for _, p in pairs if p == label)
        actual = sum(1 for t, _ in pairs if t == label)
        out[label] = PR(
            tp / predicted if predicted else 0.0, tp / actual if actual else 0.0, actual
        )
    return out


@dataclass(frozen=True)
class Report:
    n: int
    scope: dict[object, PR]
    categories: dict[object, PR]
    urgent: PR

    @property
    def scope_macro_f1(self) -> float:
        return sum(pr.f1 for pr in self.scope.values()) / len(self.scope)

    def table(self, title: str) -> str:
        lines = [f"{title}: {self.n} requests"]
        lines.append(f"  in/out of scope macro-F1 {self.scope_macro_f1:.3f}")
        for label, pr in sorted(self.scope.items(), key=str):
            name = "in scope" if label else "out of scope"
            lines.append(f"    {name:<16} P {pr.precision:.2f} R {pr.recall:.2f} (n={pr.support})")
        lines.append(f"  urgent: P {self.urgent.precision:.2f} R {self.urgent.recall:.2f} "
                     f"(n={self.urgent.support})")  # fmt: skip
        lines.append("  categories:")
        for label, pr in sorted(self.categories.items(), key=str):
            lines.append(
                f"    {label!s:<16} P {pr.precision:.2f} R {pr.recall:.2f} (n={pr.support})"
            )
        return "\n".join(lines)


def measure(items: list[dict[str, Any]], rules: Rules | None = None) -> Report:
    rules = rules or default_rules()
    decided = [scope_for(rules, i["subject"], own_words(i["body"])) for i in items]
    return Report(
        n=len(items),
        scope=per_class((i["in_scope"], d.in_scope) for i, d in zip(items, decided, strict=True)),
        categories=per_class(
            (i["category"], d.category) for i, d in zip(items, decided, strict=True)
        ),
        urgent=per_class((i["urgent"], d.urgent) for i, d in zip(items, decided, strict=True))[
            True
        ],
    )


def mistakes(items: list[dict[str, Any]]) -> list[str]:
    rules = default_rules()
    out = []
    for i in items:
        d = scope_for(rules, i["subject"], own_words(i["body"]))
        got = (d.category, d.in_scope, d.urgent)
        want = (i["category"], i["in_scope"], i["urgent"])
        if got != want:
            out.append(f"{i['id']} want {want} got {got}: {i['subject']}")
    return out


if __name__ == "__main__":
    import sys

    tuning, holdout = load(TUNING), load(HOLDOUT)
    print(measure(tuning).table("tuning set"))
    print(measure(holdout).table("held-out set"))
    print(measure(tuning + holdout).table("all"))
    alone = replace(default_rules(), model=None)
    print(measure(holdout, alone).table("held-out set, rules alone (no text model)"))
    if "-v" in sys.argv:
        print("\n".join(mistakes(tuning)))
        print("held-out mistakes are not printed: reading them is how a held-out set is spent")
