"""The consumer page's in-process cache: values expire, 0 disables it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest

from conftest import Clock
from txng.kit.ttlcache import WAIT_SECONDS, HitsOnly, NotCached, Refreshing, TTLCache


@contextmanager
def making(cache: TTLCache[str], key: str, value: str, *, fails: bool = False) -> Iterator[None]:
    """Another thread is making ``key`` (``value``, or an error) until the block ends."""
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        if fails:
            raise RuntimeError("database down")
        return value

    def run() -> None:
        with suppress(RuntimeError):
            cache.get_or_make(key, slow)

    maker = threading.Thread(target=run)
    maker.start()
    assert started.wait(5)
    try:
        yield
    finally:
        release.set()
        maker.join(5)


def aged(seconds: float, age: float) -> tuple[Clock, TTLCache[str]]:
    """A cache of ``seconds`` holding "old" for key "k", made ``age`` seconds ago."""
    clock = Clock()
    cache: TTLCache[str] = TTLCache(seconds, clock=clock)
    cache.get_or_make("k", lambda: "old")
    clock.now += age
    return clock, cache


def on_loop(cache: TTLCache[str]) -> tuple[str, set[object]]:
    """What a request on the event loop gets for "k", and the refreshes it claimed."""
    claims: set[object] = set()
    return HitsOnly(cache, claims).get_or_make("k", lambda: "never"), claims


def in_threads(count: int, call: Callable[[], str]) -> tuple[list[str], list[threading.Thread]]:
    """``count`` threads started on ``call``, and the list their results go to."""
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(call())) for _ in range(count)]
    for thread in threads:
        thread.start()
    return got, threads


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


def test_while_one_caller_refreshes_an_expired_value_the_others_get_the_old_one() -> None:
    cache: TTLCache[str] = TTLCache(0.05)
    cache.get_or_make("k", lambda: "old")
    time.sleep(0.06)
    with making(cache, "k", "new"):
        assert cache.get_or_make("k", lambda: "made again") == "old"  # no second query
        assert HitsOnly(cache).get_or_make("k", lambda: "never") == "old"
    assert cache.get_or_make("k", lambda: "made again") == "new"


def test_an_expired_value_nobody_refreshes_is_not_served() -> None:
    cache: TTLCache[str] = TTLCache(0.05)
    cache.get_or_make("k", lambda: "old")
    assert HitsOnly(cache).get_or_make("k", lambda: "never") == "old"
    time.sleep(0.06)
    with pytest.raises(NotCached):
        HitsOnly(cache).get_or_make("k", lambda: "never")
    assert cache.get_or_make("k", lambda: "new") == "new"


def test_on_the_loop_the_first_to_find_a_value_expired_claims_its_refresh_all_get_it_old() -> None:
    _, cache = aged(10, 11)  # expired, and nobody refreshes it yet
    old, claims = on_loop(cache)
    assert (old, claims) == ("old", {"k"})  # this request makes it again after its answer
    assert on_loop(cache) == ("old", set())  # the others
    assert cache.get_or_make("k", lambda: "made twice") == "old"  # a thread does not make it
    assert Refreshing(cache, claims).get_or_make("k", lambda: "new") == "new"  # the claimer
    assert claims == set()
    assert on_loop(cache) == ("new", set())


def test_a_refresh_given_up_is_claimed_by_the_next_caller() -> None:
    _, cache = aged(10, 11)
    cache.release(on_loop(cache)[1])  # its request failed before making the value
    assert on_loop(cache) == ("old", {"k"})


def test_a_refresh_abandoned_without_a_word_is_claimed_again_later() -> None:
    """A claimer that never makes the value nor gives it up (its answer never went out) does
    not leave the key stuck."""
    clock, cache = aged(60, 61)
    assert on_loop(cache) == ("old", {"k"})
    clock.now += WAIT_SECONDS + 1
    assert on_loop(cache) == ("old", {"k"})


def test_a_value_expired_long_ago_is_not_served_even_while_claimed() -> None:
    _, cache = aged(10, 21)  # more than twice its lifetime
    claims: set[object] = set()
    with pytest.raises(NotCached):
        HitsOnly(cache, claims).get_or_make("k", lambda: "never")
    assert claims == set()  # no claim: any worker thread makes it
    assert Refreshing(cache, claims).get_or_make("k", lambda: "new") == "new"


def test_callers_with_nothing_cached_wait_for_the_one_making_the_value() -> None:
    """A burst after a quiet spell makes the value once, not once per waiting thread."""
    cache: TTLCache[str] = TTLCache(60)
    with making(cache, "k", "made once"):
        got, waiters = in_threads(3, lambda: cache.get_or_make("k", lambda: "made again"))
    for waiter in waiters:
        waiter.join(5)
    assert got == ["made once"] * 3


def test_a_caller_that_must_not_block_makes_its_own_value_meanwhile() -> None:
    cache: TTLCache[str] = TTLCache(60)
    with making(cache, "k", "slow"):
        assert cache.get_or_make("k", lambda: "own", wait=False) == "own"  # did not wait


def test_when_the_maker_fails_the_waiting_callers_make_it_themselves() -> None:
    cache: TTLCache[str] = TTLCache(60)
    with making(cache, "k", "never", fails=True):
        got, waiters = in_threads(1, lambda: cache.get_or_make("k", lambda: "mine"))
    for waiter in waiters:
        waiter.join(5)
    assert got == ["mine"]
