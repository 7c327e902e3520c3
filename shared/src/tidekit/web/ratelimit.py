"""A per-caller token bucket, pure: the caller passes the current (monotonic) time in.

Each caller may make `burst` requests at once and `rate_per_second` on average; one more
is refused until a token has refilled. Used where a route could be abused to probe
secrets (key introspection): a legitimate caller caches its answers and never gets near.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBuckets:
    rate_per_second: float
    burst: float
    max_callers: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at

    def take(self, caller: str, now: float) -> float:
        """0.0 when `caller` may go ahead (a token is spent), else the seconds until it may."""
        tokens, at = self._buckets.get(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate_per_second)
        if tokens >= 1.0:
            self._remember(caller, (tokens - 1.0, now))
            return 0.0
        self._remember(caller, (tokens, now))
        return (1.0 - tokens) / self.rate_per_second

    def _remember(self, caller: str, state: tuple[float, float]) -> None:
        if caller not in self._buckets and len(self._buckets) >= self.max_callers:
            self._buckets.clear()  # bounded memory; a full bucket for everyone is the safe side
        self._buckets[caller] = state
