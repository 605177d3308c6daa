"""A small in-process sliding-window rate limiter for public and sign-in endpoints."""

from __future__ import annotations

import threading
import time
from collections import deque

KEYS_BEFORE_SWEEP = 100_000  # remembered callers before the ones idle for a window are dropped


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = KEYS_BEFORE_SWEEP

    def allow(self, key: str, limit: int | None = None) -> bool:
        limit = self.limit if limit is None else limit
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > self._sweep_at:
                self._sweep(now)
            return True

    def _sweep(self, now: float) -> None:
        """Forget callers whose last hit is older than the window (a public page meets many
        addresses once); sweep again only when the map has doubled, so that a burst of
        distinct callers costs amortised O(1) per call."""
        self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= self.window}
        self._sweep_at = max(KEYS_BEFORE_SWEEP, 2 * len(self._hits))
