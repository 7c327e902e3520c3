"""A cheap proof that a rule's pattern cannot match a text, so that most patterns never run.

The rules' patterns are case-insensitive regular expressions, which Python's `re` runs two
to three times slower than case-sensitive ones: a `\\b(word|word|...)` pattern is tried at
every position of the text, and the shipped rules have about 150 of them, so a ticket of
1,500 characters cost the classifier 4 ms (docs/performance.md). But nearly every pattern
requires one of a few literal words: `\\b(was|were|is)\\s+breached\\b` cannot match a text
without "breached". When none of a pattern's required strings (`needed`) is in the text
as `re.IGNORECASE` sees it (`folded`), the pattern cannot match and is skipped; the test
is a few substring searches. A pattern that requires no literal always runs.

Only a pattern that cannot match is skipped: tests/unit/classifier/test_prefilter.py checks
`could_match` against `re` itself, on generated texts with the characters that
`re.IGNORECASE` folds to ASCII letters (the dotted capital and dotless small i, the long
s, the Kelvin sign).
"""

from __future__ import annotations

import re

# re's own parser (sre_parse before 3.11, now deprecated under that name); typeshed has no
# stubs for these modules, so they are typed Any here.
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
import string
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

_ALNUM = frozenset(string.ascii_lowercase + string.digits)


@cache
def _fold_table() -> dict[int, int]:
    """Every character that `re.IGNORECASE` matches with an ASCII letter or digit, mapped
    to that letter or digit (lower case), as `re` itself decides it: besides A-Z, the
    dotted capital and dotless small i, the long s and the Kelvin sign. Built once per
    process (~0.1 s), from every character there is."""
    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, sys.maxunicode + 1)))
    table: dict[int, int] = {}
    for char in set(re.findall("[a-z0-9]", every, re.IGNORECASE)):
        targets = [a for a in _ALNUM if re.fullmatch(a, char, re.IGNORECASE)]
        if len(targets) != 1:  # one character equal to two letters: no sound folding
            raise RuntimeError(f"{char!r} matches {targets} ignoring case")
        table[ord(char)] = ord(targets[0])
    return table


@lru_cache(maxsize=8)
def folded(text: str) -> str:
    """`text` as `re.IGNORECASE` compares it with ASCII letters and digits: each character
    that matches one of them replaced by it, in lower case; same length. The rules test one
    text against every pattern, so the last few are kept."""
    return text.translate(_fold_table())


def needed(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literal strings (ASCII letters and digits, lower case), one of which is in the text
    of every match of `pattern`; None when this cannot tell (the pattern always runs)."""
    # Keyed by the source and flags: a compiled pattern's own hash covers its whole
    # compiled code, which cost more than the test itself.
    return _needed(pattern.pattern, pattern.flags)


@cache
def _needed(source: str, flags: int) -> tuple[str, ...] | None:
    try:
        found = _needs(sre_parse.parse(source, flags))
    except Exception:  # a parse tree of a shape this does not read (another Python):
        return None  # no prefilter, the pattern always runs
    return tuple(sorted(found)) if found else None


def could_match(pattern: re.Pattern[str], folded_text: str) -> bool:
    """False only when `pattern` cannot match the text whose `folded` form is given."""
    strings = _needed(pattern.pattern, pattern.flags)
    return strings is None or any(map(folded_text.__contains__, strings))


def _needs(parsed: Iterable[tuple[Any, Any]]) -> set[str] | None:
    """For a parsed sequence, a set of literal strings one of which every match contains:
    of the sets its required parts give, the one whose shortest string is longest (the
    rarest in a text, so the test most often says no). None when no part gives one."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, av in parsed:
        char = chr(av) if op is sre.LITERAL else ""
        if char.isascii() and char.lower() in _ALNUM:
            run.append(char.lower())
            continue
        if run:  # a literal run has ended: one string every match contains
            candidates.append({"".join(run)})
            run = []
        one = _part_needs(op, av)
        if one is not None:
            candidates.append(one)
    if run:
        candidates.append({"".join(run)})
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))


def _part_needs(op: Any, av: Any) -> set[str] | None:
    """What one part of a sequence, other than an ASCII letter or digit, requires."""
    if op is sre.SUBPATTERN:  # a group: (group, add flags, del flags, its parts)
        return _needs(av[-1])
    if op is sre.BRANCH:  # each alternative must give one: their union
        found: set[str] = set()
        for alternative in av[1]:
            one = _needs(alternative)
            if one is None:
                return None
            found |= one
        return found
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:  # (min, max, its parts)
        return _needs(av[2])
    # Zero-width parts (`\b`, look-arounds), optional ones, classes, other literals: none.
    return None
