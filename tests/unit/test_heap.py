"""A service sets its start-up heap aside from the garbage collector (tidekit.heap): what
was garbage then is collected first, what lives on is frozen, so the collections that a
request's or a claim's objects set off no longer walk the whole start-up heap again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tidekit.heap import set_start_up_heap_aside


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def heap() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


def test_live_start_up_objects_are_frozen_and_cycles_collected_first(heap: None) -> None:
    live = [Node()]
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle, unreachable once the names go
    garbage = weakref.ref(a)
    del a, b
    set_start_up_heap_aside()
    assert garbage() is None
    assert gc.get_freeze_count() > 0
    assert not any(o is live for o in gc.get_objects())
