"""The start-up heap, set aside from the garbage collector once a service is running.

What a service builds as it starts (modules, the app and its routes, clients, pools) lives
as long as the process. Left to the collector, every full collection walks all of it again;
the collections that a service's work sets off (a request's or a claim's objects that
outlive a young collection) then cost the whole start-up heap each time.

Young collections, too, wait for more new objects than the interpreter's default of 700:
at the default they come often under load and walk the objects of the requests in
flight, most of which die of their own a moment later.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_AFTER = 10_000  # net new container objects; the default is 700


def set_start_up_heap_aside() -> None:
    """Collect, then freeze what lives (modules, clients, pools), out of the collector's
    reach: what was garbage at start-up is collected first, what lives on is frozen. The
    young generation is then collected after YOUNG_COLLECTION_AFTER new objects."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])
