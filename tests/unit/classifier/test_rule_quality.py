"""The classification rules measured against labelled requests (see rule_quality.py).

Thresholds from the issue: macro-F1 of in-scope vs out-of-scope >= 0.85, urgent recall
>= 0.9, on the tuning set and on the whole set (tuning + held-out). On the held-out set
alone the scope threshold is asserted too; its urgent recall is reported, not asserted
(9 urgent requests; asserting it would mean tuning against the held-out file).
"""

from __future__ import annotations

import pytest

from .rule_quality import HOLDOUT, TUNING, load, measure


def test_the_labelled_set_is_large_and_varied() -> None:
    tuning, holdout = load(TUNING), load(HOLDOUT)
    assert len(tuning) + len(holdout) >= 150 and len(holdout) >= 40
    ids = [i["id"] for i in tuning + holdout]
    assert len(set(ids)) == len(ids)
    for items in (tuning, holdout):
        assert sum(not i["in_scope"] for i in items) >= 5 and sum(i["urgent"] for i in items) >= 5
        assert sum("\n-- \n" in i["body"] for i in items) >= 3  # e-mails with signatures
        assert sum(">" in i["body"] for i in items) >= 2  # and quoted history


@pytest.mark.parametrize("which", ["tuning", "all"])
def test_scope_and_urgency_meet_the_thresholds(
    which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    items = load(TUNING) if which == "tuning" else load(TUNING) + load(HOLDOUT)
    report = measure(items)
    with capsys.disabled():
        print("\n" + report.table(f"classifier rules, {which} set"))
    assert report.scope_macro_f1 >= 0.85
    assert report.urgent.recall >= 0.9


def test_held_out_scope(capsys: pytest.CaptureFixture[str]) -> None:
    report = measure(load(HOLDOUT))
    with capsys.disabled():
        print("\n" + report.table("classifier rules, held-out set"))
    assert report.scope_macro_f1 >= 0.85
