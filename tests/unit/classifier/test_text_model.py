"""The learned text model: features, training, the document it ships as, and its reasons."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tidemark_classifier.domain.rules import shipped_model
from tidemark_classifier.domain.text_model import QUESTIONS, TextModel, features, objective, train
from tidemark_classifier.train_model import (
    DEFAULT_C,
    OUT_OF_SCOPE_THRESHOLD,
    URGENT_THRESHOLD,
    training_digest,
)

from .rule_quality import TUNING

URGENT = [
    "our shop was hacked, strange admin user",
    "after the update the shop shows a white page",
    "please restore yesterday's backup, all products gone",
    "hacked again, spam pages everywhere",
]
CALM = [
    "how do I change the invoice address",
    "the search is slow with many products",
    "please add a wishlist feature",
    "where is the manual for the tax settings",
]


def toy_model() -> TextModel:
    texts = URGENT + CALM
    return train(
        texts,
        {"urgent": [True] * 4 + [False] * 4, "out_of_scope": [False, True] * 4},
        {"urgent": 0.5, "out_of_scope": 0.5},
        version="toy",
        iterations=300,
    )


def test_features_are_lowercased_words_and_word_pairs() -> None:
    assert features("Shop DOWN, a 500!") == ["shop", "down", "500", "shop down", "down 500"]


def test_a_vector_has_unit_length_and_ignores_unknown_words() -> None:
    model = toy_model()
    vec = model.vector("hacked shop hacked zyxxy")
    assert "zyxxy" not in vec
    assert math.isclose(math.sqrt(sum(v * v for v in vec.values())), 1.0)


def test_training_separates_what_it_saw_and_names_its_evidence() -> None:
    model = toy_model()
    for text in URGENT:
        assert model.judge("urgent", text).yes, text
    for text in CALM:
        assert not model.judge("urgent", text).yes, text
    verdict = model.judge("urgent", "hacked shop")
    assert verdict.probability > 0.5 and "hacked" in verdict.evidence
    assert verdict.reason().startswith("text model toy gave ")


def test_a_verdict_from_a_vector_computed_once_is_the_same() -> None:
    model = shipped_model()
    for text in [*URGENT, *CALM, "Our shop was hacked, the admin shows a casino page"]:
        vector = model.vector(text)
        for question in ("urgent", "out_of_scope"):
            assert model.judge(question, text, vector=vector) == model.judge(question, text)


def test_training_minimises_its_objective() -> None:
    model = toy_model()
    names = sorted(model.idf)
    rows = [[(names.index(f), v) for f, v in model.vector(t).items()] for t in URGENT + CALM]
    ys = [True] * 4 + [False] * 4
    head = model.heads["urgent"]
    fitted = objective(rows, ys, [head.weights.get(f, 0.0) for f in names], head.intercept, 16)
    untrained = objective(rows, ys, [0.0] * len(names), 0.0, 16)
    assert fitted < untrained / 2
    # Moving any single weight a little does not lower it: a minimum (up to the tolerance).
    for k in range(0, len(names), 7):
        for delta in (-0.05, 0.05):
            w = [head.weights.get(f, 0.0) for f in names]
            w[k] += delta
            assert objective(rows, ys, w, head.intercept, 16) >= fitted - 1e-3


def test_training_needs_both_answers() -> None:
    with pytest.raises(ValueError, match="both answers"):
        train(URGENT, {"urgent": [True] * 4}, {"urgent": 0.5}, version="x")


def test_the_document_round_trips_to_the_same_judgements() -> None:
    model = toy_model()
    again = TextModel.from_document(json.loads(json.dumps(model.to_document())))
    for text in URGENT + CALM + ["something else entirely"]:
        a, b = model.judge("urgent", text), again.judge("urgent", text)
        assert a.yes == b.yes and math.isclose(a.probability, b.probability, abs_tol=1e-4)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"version": "x", "idf": {}, "heads": {"urgent": {}}},
        {"version": "x", "idf": 3},
        {"version": "x", "idf": {"a": "1.0"}, "heads": {}},
    ],
)
def test_a_bad_model_document_is_refused(doc: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        TextModel.from_document(doc)


def test_the_shipped_model_was_trained_on_the_current_tuning_set() -> None:
    """Its version is a digest of the trainer's version, its parameters and the data (see
    train_model.py): after either changes, run `make classifier-model`."""
    digest = training_digest(DEFAULT_C, URGENT_THRESHOLD, OUT_OF_SCOPE_THRESHOLD)
    digest.update(TUNING.read_bytes())
    model = shipped_model()
    assert model.version == f"tm-{digest.hexdigest()[:10]}"
    assert set(model.heads) == set(QUESTIONS)


def test_the_training_command_writes_a_model_and_refuses_bad_lines(tmp_path: Path) -> None:
    data = tmp_path / "labelled.jsonl"
    rows = [
        {"subject": t, "body": "", "urgent": u, "in_scope": s}
        for t, u, s in zip(URGENT + CALM, [True] * 4 + [False] * 4, [True, False] * 4, strict=True)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "model.json"
    cmd = [sys.executable, "-m", "tidemark_classifier.train_model", str(data), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "training on 8 requests" in done.stderr and "wrote" in done.stderr
    assert TextModel.from_document(json.loads(out.read_text())).judge("urgent", URGENT[0]).yes
    data.write_text(data.read_text() + '{"subject": "x", "body": "", "urgent": "yes"}\n')
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"{data}:9: not a labelled request" in done.stderr
