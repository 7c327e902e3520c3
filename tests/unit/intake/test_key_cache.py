"""The key cache's own rules, on a clock the test moves."""

from __future__ import annotations

from tidemark_intake.access.key_cache import KeyCache, KnownKey
from tidemark_intake.access.principals import Principal


def _key(key_id: str) -> KnownKey:
    return KnownKey(Principal(key_id, "web", "frontend", frozenset({"web"})), "h", revoked=False)


def test_an_entry_is_used_until_it_is_max_age_old_then_read_again() -> None:
    now = [100.0]
    cache = KeyCache(5.0, monotonic=lambda: now[0])
    cache.store("k1", _key("k1"))
    now[0] = 104.9
    assert cache.lookup("k1") == _key("k1")
    now[0] = 105.0
    assert cache.lookup("k1") is None


def test_forget_and_clear() -> None:
    cache = KeyCache(5.0, monotonic=lambda: 0.0)
    for k in ("a", "b", "c"):
        cache.store(k, _key(k))
    cache.forget("a")
    assert [cache.lookup(k) is not None for k in ("a", "b", "c")] == [False, True, True]
    cache.clear()
    assert cache.lookup("b") is None


def test_the_cache_never_grows_past_its_bound() -> None:
    cache = KeyCache(5.0, max_entries=3, monotonic=lambda: 0.0)
    for n in range(10):
        cache.store(f"k{n}", _key(f"k{n}"))
        assert len(cache._entries) <= 3
    assert cache.lookup("k9") is not None
