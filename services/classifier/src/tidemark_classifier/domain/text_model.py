"""A small learned text model beside the hand-written rules: TF-IDF over words and word
pairs, one logistic regression per question ("is it urgent?", "is it out of scope?").

Why: the regex rules reach every labelled request they were tuned on but miss much of what
other people write (see docs/classifier.md, "Quality of the rules"); a model trained on the
labelled requests generalises to new wording far better. It is data, like the rules: the
weights ship as `text_model.json`, written by `tidemark-classifier-train`, and each decision
it makes names the words that weighed most, so staff can still see why.

Pure: no I/O, no numerical library; training is plain Python (a few seconds for a few
hundred requests) so the classifier needs nothing new at run time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\b\w\w+\b")
QUESTIONS = ("urgent", "out_of_scope")


def features(text: str) -> list[str]:
    """Lower-cased words of two or more characters, and each adjacent pair."""
    words = _TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True)
class Head:
    """One logistic regression: P(yes) = sigmoid(intercept + sum(weight * tfidf))."""

    intercept: float
    weights: Mapping[str, float]
    threshold: float


@dataclass(frozen=True)
class Verdict:
    model: str  # the model's version
    yes: bool
    probability: float
    evidence: tuple[str, ...]  # the features that pushed hardest towards "yes"

    def reason(self) -> str:
        words = ", ".join(f'"{w}"' for w in self.evidence) or "no single word"
        return f"text model {self.model} gave {self.probability:.2f}, most weight on {words}"


@dataclass(frozen=True)
class TextModel:
    version: str
    idf: Mapping[str, float]
    heads: Mapping[str, Head]

    def vector(self, text: str) -> dict[str, float]:
        """TF-IDF with sublinear term frequency, scaled to unit length."""
        counts = Counter(f for f in features(text) if f in self.idf)
        vec = {f: (1.0 + math.log(n)) * self.idf[f] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {f: v / norm for f, v in vec.items()}

    def judge(
        self,
        question: str,
        text: str,
        evidence: int = 4,
        *,
        vector: Mapping[str, float] | None = None,
    ) -> Verdict:
        """The head's verdict on `text`; `vector` is the text's, when already computed
        (one text asked both questions: the vector is most of the cost)."""
        head = self.heads[question]
        vec = self.vector(text) if vector is None else vector
        contributions = {f: v * head.weights.get(f, 0.0) for f, v in vec.items()}
        p = _sigmoid(head.intercept + sum(contributions.values()))
        top = heapq.nlargest(evidence, ((c, f) for f, c in contributions.items() if c > 0))
        return Verdict(self.version, p >= head.threshold, p, tuple(f for _, f in top))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> TextModel:
        try:
            heads = {
                str(q): Head(float(h["intercept"]), _numbers(h["weights"]), float(h["threshold"]))
                for q, h in doc["heads"].items()
            }
            model = cls(str(doc["version"]), _numbers(doc["idf"]), heads)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a text model document: {exc!r}") from None
        missing = set(QUESTIONS) - set(heads)
        if missing:
            raise ValueError(f"text model lacks heads {sorted(missing)}")
        return model

    def to_document(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "idf": {f: round(v, 6) for f, v in sorted(self.idf.items())},
            "heads": {
                q: {
                    "intercept": round(h.intercept, 6),
                    "threshold": h.threshold,
                    "weights": {f: round(w, 6) for f, w in sorted(h.weights.items()) if w},
                }
                for q, h in self.heads.items()
            },
        }


def _numbers(mapping: Mapping[str, Any]) -> dict[str, float]:
    """A feature -> number mapping, refused at load time rather than at the first request."""
    out = {}
    for key, value in mapping.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key!r}: {value!r} is not a number")
        out[str(key)] = float(value)
    return out


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def train(
    texts: Sequence[str],
    answers: Mapping[str, Sequence[bool]],
    thresholds: Mapping[str, float],
    version: str,
    c: float = 16.0,
    iterations: int = 1000,
) -> TextModel:
    """Fit one L2-regularised logistic regression per question, classes weighted to balance
    (the objective: 0.5 |w|^2 + c * sum of weighted log-losses, intercept not penalised).

    Full-batch Nesterov-accelerated gradient descent with restarts: deterministic, and with
    unit-length inputs the step 1/L is known in advance, so there is nothing to tune.
    """
    doc_freq = Counter(f for t in texts for f in set(features(t)))
    n = len(texts)
    idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in doc_freq.items()}
    shell = TextModel(version, idf, {})
    names = sorted(idf)
    index = {f: k for k, f in enumerate(names)}
    rows = [[(index[f], v) for f, v in shell.vector(t).items()] for t in texts]
    heads = {}
    for q in answers:
        w, b = _fit(rows, len(names), list(answers[q]), c, iterations)
        weights = {names[k]: x for k, x in enumerate(w) if abs(x) > 1e-6}
        heads[q] = Head(b, weights, thresholds[q])
    return TextModel(version, idf, heads)


def objective(
    rows: list[list[tuple[int, float]]], ys: list[bool], w: list[float], b: float, c: float
) -> float:
    """0.5 |w|^2 + c * sum of class-weighted log-losses (what `_fit` minimises)."""
    cw = _class_weights(ys)
    loss = 0.0
    for row, y in zip(rows, ys, strict=True):
        z = b + sum(w[k] * v for k, v in row)
        p = _sigmoid(z if y else -z)
        loss += cw[y] * -math.log(max(p, 1e-300))
    return 0.5 * sum(x * x for x in w) + c * loss


def _class_weights(ys: list[bool]) -> dict[bool, float]:
    n, positives = len(ys), sum(ys)
    if positives in (0, n):
        raise ValueError("each question needs both answers among the examples")
    return {True: n / (2 * positives), False: n / (2 * (n - positives))}


def _fit(
    rows: list[list[tuple[int, float]]], dim: int, ys: list[bool], c: float, iterations: int
) -> tuple[list[float], float]:
    cw = _class_weights(ys)
    n = len(ys)
    # Scaled by 1/(c n): mean weighted loss + |w|^2 / (2 c n). Rows have unit length and
    # the logistic curve's slope is at most 1/4, so the gradient is L-Lipschitz with:
    lipschitz = 0.25 * max(cw.values()) * 2 + 1.0 / (c * n)  # x2: the intercept's column
    step, l2 = 1.0 / lipschitz, 1.0 / (c * n)
    w, b = [0.0] * dim, 0.0
    yw, yb = w[:], b  # the look-ahead point
    t = 1.0
    last = math.inf
    for _ in range(iterations):
        grad, gb, value = [l2 * x for x in yw], 0.0, 0.0
        for row, y in zip(rows, ys, strict=True):
            z = yb + sum(yw[k] * v for k, v in row)
            p = _sigmoid(z)
            err = (p - (1.0 if y else 0.0)) * cw[y] / n
            value += cw[y] * -math.log(max(p if y else 1.0 - p, 1e-300)) / n
            gb += err
            for k, v in row:
                grad[k] += err * v
        new_w = [x - step * g for x, g in zip(yw, grad, strict=True)]
        new_b = yb - step * gb
        value += 0.5 * l2 * sum(x * x for x in yw)
        if value > last:  # restart the momentum when it overshoots
            t, yw, yb = 1.0, w[:], b
            last = math.inf
            continue
        last = value
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        momentum = (t - 1.0) / t_next
        yw = [nw + momentum * (nw - x) for nw, x in zip(new_w, w, strict=True)]
        yb = new_b + momentum * (new_b - b)
        w, b, t = new_w, new_b, t_next
    return w, b
