"""A small in-process cache whose entries expire after a fixed time (thread-safe)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


WAIT_SECONDS = 10.0  # at most this long for another caller's make, then make it too


class TTLCache(Generic[V]):
    """``get_or_make(key, make)``: the value made at most ``seconds`` ago, else a fresh one.

    While one caller makes a fresh value for a key, the others get the expired one (if it is
    less than ``2 * seconds`` old) instead of all making it at once: under load an expiring
    entry cost a burst of identical queries in every busy thread. With no such value (a first
    request, or one after a quiet spell), they wait for that caller's value instead of making
    it again each (``wait=False``: make it anyway, for callers that must not block)."""

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
        # key → (set when its value is made, when that began); a claim older than
        # WAIT_SECONDS counts as abandoned (its maker failed without giving it up)
        self._making: dict[Hashable, tuple[threading.Event, float]] = {}
        self._lock = threading.Lock()

    def _lookup(
        self, key: Hashable, now: float, *, claim: bool
    ) -> tuple[bool, V | None, threading.Event | None]:
        """(True, value, None) for a fresh value, or an expired one that another caller is
        making again. Else (False, None, event) when another caller is making it (``event`` is
        set when done), or (False, None, None), and with ``claim`` the caller is to make it."""
        with self._lock:
            hit = self._items.get(key)
            making = self._making_now(key, now)
            if hit is not None:
                age = now - hit[0]
                if age < self.seconds or (making is not None and age < 2 * self.seconds):
                    return True, hit[1], None
            if making is not None:
                return False, None, making
            if claim:
                self._making[key] = (threading.Event(), now)
            return False, None, None

    def claim_expired(self, key: Hashable) -> bool:
        """Whether the caller now refreshes ``key``: its value expired (less than ``2 * seconds``
        ago) and nobody is making it. Until :meth:`remake` or :meth:`release`, others get the
        expired value."""
        with self._lock:
            now = self.clock()
            hit = self._items.get(key)
            if hit is None or self._making_now(key, now) is not None:
                return False
            if not self.seconds <= now - hit[0] < 2 * self.seconds:
                return False
            self._making[key] = (threading.Event(), now)
            return True

    def release(self, keys: set[Hashable]) -> None:
        """Give up the refresh of ``keys`` claimed and not remade (the caller failed)."""
        with self._lock:
            for key in keys:
                self._done(key)

    def _making_now(self, key: Hashable, now: float) -> threading.Event | None:  # under the lock
        """The event of a make of ``key`` in progress, if any (an abandoned one is dropped)."""
        making = self._making.get(key)
        if making is None:
            return None
        if now - making[1] > WAIT_SECONDS:
            self._done(key)
            return None
        return making[0]

    def _done(self, key: Hashable) -> None:  # under the lock
        making = self._making.pop(key, None)
        if making is not None:
            making[0].set()

    def get_or_make(self, key: Hashable, make: Callable[[], V], *, wait: bool = True) -> V:
        if self.seconds <= 0:
            return make()
        found, cached, making = self._lookup(key, self.clock(), claim=True)
        if found:
            return cached  # type: ignore[return-value]
        if making is None:
            return self.remake(key, make)
        if wait and making.wait(WAIT_SECONDS):  # another caller's make: its value, if fresh
            with self._lock:
                hit = self._items.get(key)
            if hit is not None and self.clock() - hit[0] < self.seconds:
                return hit[1]
        return self._store(key, make())  # it failed, is slow, or the caller must not wait

    def remake(self, key: Hashable, make: Callable[[], V]) -> V:
        """Make and store a fresh value for ``key`` (claimed by the caller)."""
        try:
            value = make()  # outside the lock
        finally:
            with self._lock:
                self._done(key)
        return self._store(key, value)

    def _store(self, key: Hashable, value: V) -> V:
        with self._lock:
            now = self.clock()
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
    instead of making a value (code on an event loop must not run the queries a make does).

    With a ``claims`` set, the first caller to find a value expired claims its refresh (the
    key joins ``claims``): it and the callers after it get the expired value until the claimer
    makes it again, in a worker thread after its answer (see :class:`Refreshing`). Without,
    every caller misses until some other caller refreshes it."""

    def __init__(self, cache: TTLCache[V], claims: set[Hashable] | None = None) -> None:
        self._cache = cache
        self._claims = claims

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if self._cache.seconds <= 0:
            raise NotCached(key)
        if self._claims is not None and self._cache.claim_expired(key):
            self._claims.add(key)
        found, cached, _ = self._cache._lookup(key, self._cache.clock(), claim=False)
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
