"""Reading one of a Literal type's names from outside (a database row, a rules file, a JSON
case) with a check instead of a `cast`: the value comes back typed as the name it equals."""

from __future__ import annotations

from typing import TypeVar

Name = TypeVar("Name")


def one_of(names: tuple[Name, ...], value: object) -> Name | None:
    """The member of `names` equal to `value`, or None when it is none of them."""
    for name in names:
        if name == value:
            return name
    return None
