"""API keys checked from each replica's memory, told of changes by Postgres (key_cache.py)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from tidekit.runtime import ServiceRuntime
from tidekit.store.listen import ChannelListener

from . import keys, principals
from .key_cache import CHANNEL, KeyCache


class KeyVerifier:
    def __init__(self, pool_of: Callable[[], asyncpg.Pool], max_age: float) -> None:
        self._pool_of = pool_of  # the runtime's pool, once it is connected
        self.cache = KeyCache(max_age)
        self.listener = ChannelListener(CHANNEL, self.cache.forget, self.cache.clear)

    async def authenticate(self, presented: str) -> principals.Principal | None:
        """The key's principal, or None for a malformed, unknown, wrong or revoked key."""
        parts = principals.split_key(presented)
        if parts is None:
            return None
        key_id, secret = parts
        known = self.cache.lookup(key_id)
        if known is None:
            known = await keys.load_key(self._pool_of(), key_id)
            if known is not None:
                self.cache.store(key_id, known)
        return keys.verify(secret, known)

    async def listen(self, runtime: ServiceRuntime) -> None:
        """The runtime worker that keeps the cache told of created and revoked keys."""
        await self.listener.run(runtime.connect_dedicated)
