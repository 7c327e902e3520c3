"""The classifier's prefilter skips only patterns that cannot match (`re` is the judge).

`could_match(pattern, folded(text))` may say True when the pattern does not match (the
pattern then runs), never False when it does. Checked on generated patterns of the shapes
the rules use and on every shipped pattern, with texts that hold the characters
`re.IGNORECASE` takes for ASCII letters (the dotted capital and dotless small i, the long
s, the Kelvin sign) and words the patterns need."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidemark_classifier.domain import default_rules
from tidemark_classifier.domain.prefilter import could_match, folded, needed
from tidemark_classifier.domain.rules import first_match

RULES = default_rules()
SHIPPED = [
    pattern
    for kind in (RULES.severity, RULES.out_of_scope, RULES.categories, RULES.urgent)
    for rule in kind
    for pattern in (*rule.patterns, *(p for group in rule.all_of for p in group))
]
# What IGNORECASE matches with i, s and k besides their two cases.
ODD_LETTERS = "\u0130\u0131\u017f\u212a"

# Patterns from a small grammar over a few letters: literals, groups, alternatives,
# optional parts and repeats, classes, word boundaries and look-behinds.
atoms = st.sampled_from(["a", "b", "k", "s", "i", "ab", "ki", "sk", "1", r"\s", r"\w", "[ab]", "-"])


def _group(parts: list[str]) -> str:
    return "(" + "|".join(parts) + ")"


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, min_size=1, max_size=3).map("".join),
        st.lists(inner, min_size=1, max_size=3).map(_group),
        inner.map(lambda p: f"(?:{p})?"),
        inner.map(lambda p: f"(?:{p})+"),
        inner.map(lambda p: f"(?:{p}){{0,2}}"),
        inner.map(lambda p: rf"\b{p}"),
        inner.map(lambda p: f"(?<!a){p}"),
    )


patterns = st.recursive(atoms, _extend, max_leaves=8)
texts = st.text(alphabet="abkisABKIS1 -" + ODD_LETTERS, max_size=30)


@given(source=patterns, text=texts)
@settings(max_examples=3000, deadline=None)
def test_a_generated_pattern_is_never_skipped_on_a_text_it_matches(source: str, text: str) -> None:
    pattern = re.compile(source, re.IGNORECASE)
    if pattern.search(text):
        assert could_match(pattern, folded(text)), (source, text, needed(pattern))


def _spelled(word: str, cases: list[int]) -> str:
    """`word` with its letters in the case `cases` picks: as is, upper, or an odd letter."""
    odd = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}
    out = []
    for char, case in zip(word, cases + [0] * len(word), strict=False):
        choices = [char, char.upper(), *odd.get(char, "")]
        out.append(choices[case % len(choices)])
    return "".join(out)


WORDS = sorted({w for p in SHIPPED for w in needed(p) or ()} | {"is", "the", "our", "not"})
shipped_texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.lists(st.integers(0, 3), max_size=12)),
    max_size=12,
).map(lambda words: " ".join(_spelled(w, cases) for w, cases in words))


@given(text=shipped_texts)
@settings(max_examples=300, deadline=None)
def test_no_shipped_pattern_is_skipped_on_a_text_it_matches(text: str) -> None:
    folded_text = folded(text)
    for pattern in SHIPPED:
        if pattern.search(text):
            assert could_match(pattern, folded_text), (pattern.pattern, text)


def test_folding_is_re_s_own_for_the_odd_letters() -> None:
    assert folded("\u0130\u0131\u017f\u212aK\u00e9") == "iisk" + "k\u00e9"
    for odd, letter in zip(ODD_LETTERS, "iisk", strict=True):
        assert re.fullmatch(letter, odd, re.IGNORECASE)


def test_each_letter_and_digit_folds_from_exactly_what_it_matches_ignoring_case() -> None:
    """The fold is built with a class ([a-z0-9]); a pattern's letters are literals. What a
    literal matches, and nothing else, folds to it."""
    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    folds_to: dict[str, set[str]] = {}
    for char, fold in zip(every, folded(every), strict=True):
        folds_to.setdefault(fold, set()).add(char)
    for char in string.ascii_lowercase + string.digits:
        assert folds_to[char] == set(re.findall(re.escape(char), every, re.IGNORECASE)), char


@pytest.mark.parametrize(
    ("source", "strings"),
    [
        (r"\b(was|were|been|got|is)\s+breached\b", ("breached",)),  # the rarest part
        (r"\b(domain\s+)?registrar\b", ("registrar",)),  # an optional part needs nothing
        (r"\b(very\s+|so\s+)?slow(ly|er)?\b", ("slow",)),
        (r"\b(hacked|sql\s+injection|vulnerab\w*)", ("hacked", "injection", "vulnerab")),
        (r"(\ball|\d[\d,.]{0,20})\s+gone", ("gone",)),
        (r"\b(php\.ini|\.htaccess)\b", ("htaccess", "php")),  # a word after a dot too
        (r"\b\d+\s*%", None),  # no letter or digit it must contain
    ],
)
def test_what_a_pattern_needs(source: str, strings: tuple[str, ...] | None) -> None:
    pattern = re.compile(source, re.IGNORECASE)
    assert needed(pattern) == (None if strings is None else tuple(sorted(strings)))


def test_most_shipped_patterns_need_a_word_and_matches_are_reported_as_before() -> None:
    assert sum(needed(p) is None for p in SHIPPED) <= 5
    rule = next(r for r in RULES.urgent if r.id == "site-hacked")
    found = first_match(rule, "Our SITE was breached last night")
    assert found is not None and found.phrase == "was breached"
