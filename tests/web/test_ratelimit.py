"""The in-process rate limiter: a sliding window per caller, and it forgets idle callers."""

from __future__ import annotations

import gc

import pytest

from txng.web import ratelimit
from txng.web.ratelimit import RateLimiter


def test_a_caller_over_the_limit_waits_for_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    limiter = RateLimiter(2, 60.0)
    assert limiter.allow("a")
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")  # another caller is not affected
    clock[0] += 61
    assert limiter.allow("a")


def test_callers_idle_for_a_window_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    """A public page meets many addresses once: memory must not grow with all of them."""
    clock = [0.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(ratelimit, "KEYS_BEFORE_SWEEP", 100)
    limiter = RateLimiter(5, 60.0)
    limiter._sweep_at = 100
    for i in range(100):
        limiter.allow(f"old-{i}")
    clock[0] += 120
    for i in range(150):
        limiter.allow(f"new-{i}")
    assert len(limiter._hits) <= 150  # the 100 idle callers were dropped
    assert not any(key.startswith("old-") for key in limiter._hits)


def test_remembered_callers_add_nothing_for_the_garbage_collector_to_walk() -> None:
    limiter = RateLimiter(5, 60.0)
    for i in range(100):
        assert limiter.allow(f"10.0.0.{i}")
    gc.collect()
    assert not any(gc.is_tracked(hits) for hits in limiter._hits.values())
