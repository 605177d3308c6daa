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

    def __init__(
        self,
        seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
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

    def claim_expired(self, key: Hashable) -> bool:
        """Whether the caller now refreshes ``key``: its value expired (less than ``2 * seconds``
        ago) and nobody is making it. Until :meth:`remake` or :meth:`release`, others get the
        expired value."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or key in self._making:
                return False
            if not self.seconds <= self.clock() - hit[0] < 2 * self.seconds:
                return False
            self._making.add(key)
            return True

    def release(self, keys: set[Hashable]) -> None:
        """Give up the refresh of ``keys`` claimed and not remade (the caller failed)."""
        with self._lock:
            self._making.difference_update(keys)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self.seconds <= 0:
            return make()
        found, cached = self._lookup(key, self.clock(), claim=True)
        if found:
            return cached  # type: ignore[return-value]
        return self.remake(key, make)

    def remake(self, key: Hashable, make: Callable[[], V]) -> V:
        """Make and store a fresh value for ``key`` (claimed by the caller)."""
        now = self.clock()
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
            self._items[key] = (self.clock(), value)
        return value


class NotCached(Exception):
    """The value is not in the cache and :class:`HitsOnly` may not make it."""


class HitsOnly(Generic[V]):
    """A view of a cache that only answers from it: ``get_or_make`` raises :class:`NotCached`
    instead of making a value (code on an event loop must not run the queries a make does).

    With a ``claims`` set, the first caller to find a value expired claims its refresh (the
    key joins ``claims``) and gets :class:`NotCached`, so that this one request makes it again
    in a worker thread (see :class:`Refreshing`); the callers after it get the expired value.
    Without, every caller misses until some other caller refreshes it."""

    def __init__(self, cache: TTLCache[V], claims: set[Hashable] | None = None) -> None:
        self._cache = cache
        self._claims = claims

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self._cache.seconds <= 0:
            raise NotCached(key)
        if self._claims is not None and self._cache.claim_expired(key):
            self._claims.add(key)
            raise NotCached(key)
        found, cached = self._cache._lookup(key, self._cache.clock(), claim=False)
        if not found:
            raise NotCached(key)
        return cached  # type: ignore[return-value]


class Refreshing(Generic[V]):
    """A view of a cache for the caller that claimed the refresh of ``claims`` (see
    :class:`HitsOnly`): those keys are made again, the others read as usual."""

    def __init__(self, cache: TTLCache[V], claims: set[Hashable]) -> None:
        self._cache = cache
        self._claims = claims

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if key in self._claims:
            self._claims.discard(key)
            return self._cache.remake(key, make)
        return self._cache.get_or_make(key, make)
