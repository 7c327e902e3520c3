"""tidekit.literals.one_of: a value read from outside becomes a Literal name only if it is one."""

from __future__ import annotations

from tidekit.events.vocabulary import CHANNELS
from tidekit.literals import one_of


def test_a_known_name_comes_back_as_that_name() -> None:
    assert one_of(CHANNELS, "email") == "email"


def test_anything_else_is_none() -> None:
    assert one_of(CHANNELS, "fax") is None
    assert one_of(CHANNELS, None) is None
    assert one_of(CHANNELS, ["web"]) is None  # unhashable values are compared, not looked up
