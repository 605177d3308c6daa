"""A small in-process sliding-window rate limiter for public and sign-in endpoints."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left

KEYS_BEFORE_SWEEP = 100_000  # remembered callers before the ones idle for a window are dropped


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        # Tuples of floats, not deques: the garbage collector stops tracking them at its first
        # pass, so a map of many callers does not make every full collection longer.
        self._hits: dict[str, tuple[float, ...]] = {}
        self._lock = threading.Lock()
        self._sweep_at = KEYS_BEFORE_SWEEP

    def allow(self, key: str, limit: int | None = None) -> bool:
        limit = self.limit if limit is None else limit
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key, ())
            hits = hits[bisect_left(hits, now - self.window) :]
            if len(hits) >= limit:
                self._hits[key] = hits
                return False
            self._hits[key] = (*hits, now)
            if len(self._hits) > self._sweep_at:
                self._sweep(now)
            return True

    def _sweep(self, now: float) -> None:
        """Forget callers whose last hit is older than the window (a public page meets many
        addresses once); sweep again only when the map has doubled, so that a burst of
        distinct callers costs amortised O(1) per call."""
        self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= self.window}
        self._sweep_at = max(KEYS_BEFORE_SWEEP, 2 * len(self._hits))
