"""The start-up heap, set aside from the garbage collector once a service is running.

What a service builds as it starts (modules, the app and its routes, clients, pools) lives
as long as the process. Left to the collector, every full collection walks all of it again;
the collections that a service's work sets off (a request's or a claim's objects that
outlive a young collection) then cost the whole start-up heap each time.
"""

from __future__ import annotations

import gc


def set_start_up_heap_aside() -> None:
    """Collect, then freeze what lives (modules, clients, pools), out of the collector's
    reach: what was garbage at start-up is collected first, what lives on is frozen."""
    gc.collect()
    gc.freeze()
