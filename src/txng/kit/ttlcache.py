"""A small in-process cache whose entries expire after a fixed time (thread-safe)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """``get_or_make(key, make)``: the value made at most ``seconds`` ago, else a fresh one.

    While one caller makes a fresh value for a key, the others get the expired one (if it is
    less than ``2 * seconds`` old) instead of all making it at once: under load an expiring
    entry cost a burst of identical queries in every busy thread."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._making: set[Hashable] = set()
        self._lock = threading.Lock()

    def _lookup(self, key: Hashable, now: float, *, claim: bool) -> tuple[bool, V | None]:
        """(True, value) for a fresh value, or an expired one that another caller is making
        again; else (False, None), and with ``claim`` the caller is the one making it."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                age = now - hit[0]
                if age < self.seconds or (key in self._making and age < 2 * self.seconds):
                    return True, hit[1]
            if claim:
                self._making.add(key)
            return False, None

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self.seconds <= 0:
            return make()
        now = time.monotonic()
        found, cached = self._lookup(key, now, claim=True)
        if found:
            return cached  # type: ignore[return-value]
        try:
            value = make()  # outside the lock: two first callers may both make it (harmless)
        finally:
            with self._lock:
                self._making.discard(key)
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items = {k: v for k, v in self._items.items() if now - v[0] < self.seconds}
                if len(self._items) >= self.max_entries:
                    self._items.clear()
            self._items[key] = (time.monotonic(), value)
        return value


class NotCached(Exception):
    """The value is not in the cache and :class:`HitsOnly` may not make it."""


class HitsOnly(Generic[V]):
    """A view of a cache that only answers from it: ``get_or_make`` raises :class:`NotCached`
    instead of making a value (code on an event loop must not run the queries a make does)."""

    def __init__(self, cache: TTLCache[V]) -> None:
        self._cache = cache

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self._cache.seconds <= 0:
            raise NotCached(key)
        found, cached = self._cache._lookup(key, time.monotonic(), claim=False)
        if not found:
            raise NotCached(key)
        return cached  # type: ignore[return-value]
