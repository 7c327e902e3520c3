"""Decisions read from the request's text: severity, scope and category, urgency.

Each returns its value and the reasons (rule ids and matched phrases) staff will see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Generic, TypeVar

from tidekit.events.vocabulary import Category, Severity

from .rules import SEVERITIES, Match, Rules, all_matches, first_match, own_words

T = TypeVar("T")


@dataclass(frozen=True)
class Decided(Generic[T]):
    value: T
    reasons: tuple[str, ...]


def request_text(subject: str, body: str) -> tuple[str, str]:
    """(subject, the customer's own words in the body)."""
    return subject, own_words(body)


def text_severity(rules: Rules, text: str) -> tuple[Severity, Match] | None:
    """The most severe rule that matches the text, with its match."""
    best: tuple[Severity, Match] | None = None
    for rule in rules.severity:
        assert rule.severity is not None
        found = first_match(rule, text)
        if found and (best is None or _rank(rule.severity) < _rank(best[0])):
            best = (rule.severity, found)
    return best


def _rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


def severity_for(
    rules: Rules, hint: Severity | None, subject: str, body: str
) -> Decided[Severity | None]:
    """The requester's hint, checked against the text rules.

    A matching rule is evidence and wins over the hint (it may raise or lower it); without
    one the hint stands as given; with neither there is no severity (the level's target)."""
    found = text_severity(rules, f"{subject}\n{body}")
    if found is None:
        if hint is None:
            return Decided(None, ("severity: no hint and no text rule matched",))
        return Decided(hint, (f"severity {hint} from the requester's hint (no text rule matched)",))
    severity, match = found
    rule = f"rule {match.rule} matched {match.quoted()}"
    if hint is None:
        return Decided(severity, (f"severity {severity}: {rule}",))
    if hint == severity:
        return Decided(
            severity, (f"severity {severity} from the requester's hint, confirmed: {rule}",)
        )
    return Decided(severity, (f"severity {severity}, not the hinted {hint}: {rule}",))


@dataclass(frozen=True)
class Scope:
    """What the rules read in a ticket's text: its category, whether support covers
    it, whether it is urgent (site recovery), and the reasons for each."""

    category: Category
    in_scope: bool
    urgent: bool
    reasons: tuple[str, ...]


def scope_for(rules: Rules, subject: str, body: str) -> Scope:
    """Scope by the out-of-scope rules or the text model, urgency by the site-recovery rules
    or the text model (either suffices); the category from
    the first matching out-of-scope (else urgent) rule that names one, else by score (two
    points a pattern in the subject, one in the body); each with the phrases matched."""
    reasons: list[str] = []
    text = f"{subject}\n{body}"
    outside = [m for rule in rules.out_of_scope if (m := first_match(rule, text))]
    for m in outside:
        reasons.append(f"out of scope: rule {m.rule} matched {m.quoted()}")
    model = rules.model
    vector = model.vector(text) if model else None  # both questions are about this text
    model_outside = model.judge("out_of_scope", text, vector=vector) if model else None
    if model_outside and model_outside.yes:
        reasons.append(f"out of scope: {model_outside.reason()}")
    in_scope = not outside and not (model_outside and model_outside.yes)
    scores: Counter[str] = Counter()
    phrases: dict[str, list[str]] = {}
    for rule in rules.categories:
        for where, weight in ((subject, 2), (body, 1)):
            for m in all_matches(rule, where):
                scores[rule.id] += weight
                phrases.setdefault(rule.id, [])
                if m.phrase.lower() not in (p.lower() for p in phrases[rule.id]):
                    phrases[rule.id].append(m.phrase)
    urgent_matches = [(rule, m) for rule in rules.urgent if (m := first_match(rule, text))]
    model_urgent = model.judge("urgent", text, vector=vector) if model else None
    category: Category = "other"
    ruled = [r for m in outside for r in rules.out_of_scope if r.id == m.rule and r.category]
    # A site-recovery request is of its rule's kind (a compromise is security, breakage
    # after an update is updates) whatever else its words score.
    ruled += [rule for rule, _ in urgent_matches if rule.category and in_scope]
    if ruled:
        assert ruled[0].category is not None
        category = ruled[0].category
        kind = "out-of-scope" if outside else "urgent"
        reasons.append(f"category {category}: from {kind} rule {ruled[0].id}")
    elif scores:
        top = max(scores.values())
        winner = next(r for r in rules.categories if scores[r.id] == top)
        assert winner.category is not None
        category = winner.category
        shown = ", ".join(f'"{p}"' for p in phrases[winner.id][:5])
        reasons.append(f"category {category}: matched {shown}")
    else:
        reasons.append("category other: no category rule matched")
    for _, m in urgent_matches:
        reasons.append(f"urgent (site recovery): rule {m.rule} matched {m.quoted()}")
    if model_urgent and model_urgent.yes:
        reasons.append(f"urgent (site recovery): {model_urgent.reason()}")
    urgent = bool(urgent_matches) or bool(model_urgent and model_urgent.yes)
    return Scope(category, in_scope, urgent, tuple(reasons))
