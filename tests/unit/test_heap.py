"""A service sets its start-up heap aside from the garbage collector (tidekit.heap): what
was garbage then is collected first, what lives on is frozen, so the collections that a
request's or a claim's objects set off no longer walk the whole start-up heap again."""

from __future__ import annotations

import gc
import weakref

from tidekit.heap import YOUNG_COLLECTION_AFTER, set_start_up_heap_aside


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


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


def test_young_collections_wait_for_more_objects_than_the_default(heap: None) -> None:
    gc.set_threshold(700, 10, 10)  # the interpreter's defaults
    set_start_up_heap_aside()
    assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, 10, 10)
    assert YOUNG_COLLECTION_AFTER > 700
