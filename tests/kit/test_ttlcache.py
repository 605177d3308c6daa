"""The consumer page's in-process cache: values expire, 0 disables it."""

from __future__ import annotations

import time

from txng.kit.ttlcache import TTLCache


def test_a_value_is_reused_until_it_expires() -> None:
    made: list[int] = []
    cache: TTLCache[int] = TTLCache(0.05)

    def make() -> int:
        made.append(1)
        return len(made)

    assert cache.get_or_make("k", make) == 1
    assert cache.get_or_make("k", make) == 1
    assert cache.get_or_make("other", make) == 2
    time.sleep(0.06)
    assert cache.get_or_make("k", make) == 3


def test_zero_seconds_disables_the_cache() -> None:
    cache: TTLCache[object] = TTLCache(0)
    assert cache.get_or_make("k", object) is not cache.get_or_make("k", object)


def test_the_cache_stays_bounded() -> None:
    cache: TTLCache[int] = TTLCache(60, max_entries=3)
    for i in range(10):
        cache.get_or_make(i, lambda i=i: i)  # type: ignore[misc]
    assert len(cache._items) <= 3
