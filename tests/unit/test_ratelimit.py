"""The per-caller token bucket of key introspection, on a clock the test moves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tidekit.web.ratelimit import TokenBuckets


def test_a_burst_then_one_per_refill_interval() -> None:
    buckets = TokenBuckets(rate_per_second=10, burst=3)
    assert [buckets.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert abs(buckets.take("a", 0.0) - 0.1) < 1e-9  # the next token in 0.1 s
    assert buckets.take("a", 0.1) == 0.0
    assert buckets.take("b", 0.1) == 0.0  # another caller has its own bucket


def test_an_idle_caller_refills_up_to_the_burst_only() -> None:
    buckets = TokenBuckets(rate_per_second=1, burst=2)
    buckets.take("a", 0.0)
    granted = [buckets.take("a", 1000.0) == 0.0 for _ in range(4)]
    assert granted == [True, True, False, False]


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=2, allow_nan=False), min_size=1, max_size=200),
    rate=st.floats(min_value=0.5, max_value=50),
    burst=st.integers(min_value=1, max_value=20),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    gaps: list[float], rate: float, burst: int
) -> None:
    buckets = TokenBuckets(rate_per_second=rate, burst=burst)
    now, granted = 0.0, 0
    for gap in gaps:
        now += gap
        granted += buckets.take("caller", now) == 0.0
    assert granted <= burst + rate * now + 1e-6
