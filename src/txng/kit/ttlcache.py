"""A small in-process cache whose entries expire after a fixed time (thread-safe)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """``get_or_make(key, make)``: the value made at most ``seconds`` ago, else a fresh one."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: Hashable, now: float) -> tuple[float, V] | None:
        if self.seconds <= 0:
            return None
        with self._lock:
            hit = self._items.get(key)
        return hit if hit is not None and now - hit[0] < self.seconds else None

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self.seconds <= 0:
            return make()
        now = time.monotonic()
        hit = self._fresh(key, now)
        if hit is not None:
            return hit[1]
        value = make()  # outside the lock: two threads may both make it, which is harmless
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items = {k: v for k, v in self._items.items() if now - v[0] < self.seconds}
                if len(self._items) >= self.max_entries:
                    self._items.clear()
            self._items[key] = (now, value)
        return value


class NotCached(Exception):
    """The value is not in the cache and :class:`HitsOnly` may not make it."""


class HitsOnly(Generic[V]):
    """A view of a cache that only answers from it: ``get_or_make`` raises :class:`NotCached`
    instead of making a value (code on an event loop must not run the queries a make does)."""

    def __init__(self, cache: TTLCache[V]) -> None:
        self._cache = cache

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        hit = self._cache._fresh(key, time.monotonic())
        if hit is None:
            raise NotCached(key)
        return hit[1]
