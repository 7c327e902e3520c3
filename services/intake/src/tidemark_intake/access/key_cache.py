"""API keys verified from memory, so a request costs no database round trip for its key.

Each replica keeps the keys it has seen (hash and scope, never the secret) for at most
`max_age` seconds. Creating or revoking a key notifies every replica through Postgres
(`pg_notify` in the writing transaction, see keys.py), which forgets that key at once; a
replica that was not listening at the time (its connection was down) forgets everything
(tidekit.store.listen reports the gap), and `max_age` bounds what any missed notice can
cost: a revoked key stops working everywhere within `max_age` (default 5 s, the bound
docs/security.md promises).

Only keys that exist are kept (revoked ones as revoked): an unknown key id is looked up
each time, so a key created a moment ago on another replica works at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .principals import Principal

CHANNEL = "tidemark_api_keys"  # NOTIFY payload: the id of a key created or revoked


@dataclass(frozen=True)
class KnownKey:
    """An API key as the database holds it: whom it stands for, the hash its secret
    is checked against, and whether it is revoked (a revoked key is cached too)."""

    principal: Principal
    secret_hash: str
    revoked: bool


@dataclass(frozen=True)
class _Entry:
    """A cached key and the monotonic time it was read, which `lookup` ages it
    by."""

    key: KnownKey
    stored_at: float


class KeyCache:
    def __init__(
        self,
        max_age: float,
        *,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}

    def lookup(self, key_id: str) -> KnownKey | None:
        """The key as last read, unless older than `max_age` (then None: read it again)."""
        entry = self._entries.get(key_id)
        if entry is None or self._monotonic() - entry.stored_at >= self.max_age:
            return None
        return entry.key

    def store(self, key_id: str, key: KnownKey) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # rare: cheaper than tracking recency on every hit
        self._entries[key_id] = _Entry(key, self._monotonic())

    def forget(self, key_id: str) -> None:
        self._entries.pop(key_id, None)

    def clear(self) -> None:
        self._entries.clear()
