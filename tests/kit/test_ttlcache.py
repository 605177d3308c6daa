"""The consumer page's in-process cache: values expire, 0 disables it."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import Clock
from txng.kit.ttlcache import WAIT_SECONDS, HitsOnly, NotCached, Refreshing, TTLCache


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
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    refresher = threading.Thread(target=cache.get_or_make, args=("k", slow))
    refresher.start()
    assert started.wait(5)
    assert cache.get_or_make("k", lambda: "made again") == "old"  # no second query
    assert HitsOnly(cache).get_or_make("k", lambda: "never") == "old"
    release.set()
    refresher.join(5)
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
    clock = Clock()
    cache: TTLCache[str] = TTLCache(10, clock=clock)
    cache.get_or_make("k", lambda: "old")
    clock.now += 11  # expired, and nobody refreshes it yet
    claims: set[object] = set()
    assert HitsOnly(cache, claims).get_or_make("k", lambda: "never") == "old"
    assert claims == {"k"}  # this request makes it again after its answer
    others: set[object] = set()
    assert HitsOnly(cache, others).get_or_make("k", lambda: "never") == "old"
    assert others == set()
    assert cache.get_or_make("k", lambda: "made twice") == "old"  # a thread does not make it
    assert Refreshing(cache, claims).get_or_make("k", lambda: "new") == "new"  # the claimer
    assert claims == set()
    assert HitsOnly(cache, set()).get_or_make("k", lambda: "never") == "new"


def test_a_refresh_given_up_is_claimed_by_the_next_caller() -> None:
    clock = Clock()
    cache: TTLCache[str] = TTLCache(10, clock=clock)
    cache.get_or_make("k", lambda: "old")
    clock.now += 11
    failed: set[object] = set()
    HitsOnly(cache, failed).get_or_make("k", lambda: "never")
    cache.release(failed)  # its request failed before making the value
    again: set[object] = set()
    assert HitsOnly(cache, again).get_or_make("k", lambda: "never") == "old"
    assert again == {"k"}


def test_a_refresh_abandoned_without_a_word_is_claimed_again_later() -> None:
    """A claimer that never makes the value nor gives it up (its answer never went out) does
    not leave the key stuck."""
    clock = Clock()
    cache: TTLCache[str] = TTLCache(60, clock=clock)
    cache.get_or_make("k", lambda: "old")
    clock.now += 61
    lost: set[object] = set()
    HitsOnly(cache, lost).get_or_make("k", lambda: "never")
    assert lost == {"k"}
    clock.now += WAIT_SECONDS + 1
    again: set[object] = set()
    assert HitsOnly(cache, again).get_or_make("k", lambda: "never") == "old"
    assert again == {"k"}
    assert cache.get_or_make("other", lambda: "x") == "x"


def test_a_value_expired_long_ago_is_not_served_even_while_claimed() -> None:
    clock = Clock()
    cache: TTLCache[str] = TTLCache(10, clock=clock)
    cache.get_or_make("k", lambda: "old")
    clock.now += 21  # more than twice its lifetime
    claims: set[object] = set()
    with pytest.raises(NotCached):
        HitsOnly(cache, claims).get_or_make("k", lambda: "never")
    assert claims == set()  # no claim: any worker thread makes it
    assert Refreshing(cache, claims).get_or_make("k", lambda: "new") == "new"


def test_callers_with_nothing_cached_wait_for_the_one_making_the_value() -> None:
    """A burst after a quiet spell makes the value once, not once per waiting thread."""
    cache: TTLCache[str] = TTLCache(60)
    started, release = threading.Event(), threading.Event()
    made: list[str] = []

    def slow() -> str:
        made.append("slow")
        started.set()
        release.wait(5)
        return "made once"

    maker = threading.Thread(target=cache.get_or_make, args=("k", slow))
    maker.start()
    assert started.wait(5)
    got: list[str] = []
    waiters = [
        threading.Thread(target=lambda: got.append(cache.get_or_make("k", slow))) for _ in range(3)
    ]
    for waiter in waiters:
        waiter.start()
    release.set()
    for thread in (maker, *waiters):
        thread.join(5)
    assert made == ["slow"]
    assert got == ["made once"] * 3


def test_a_caller_that_must_not_block_makes_its_own_value_meanwhile() -> None:
    cache: TTLCache[str] = TTLCache(60)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "slow"

    maker = threading.Thread(target=cache.get_or_make, args=("k", slow))
    maker.start()
    assert started.wait(5)
    try:
        assert cache.get_or_make("k", lambda: "own", wait=False) == "own"  # did not wait
        assert not release.is_set()
    finally:
        release.set()
        maker.join(5)


def test_when_the_maker_fails_the_waiting_callers_make_it_themselves() -> None:
    cache: TTLCache[str] = TTLCache(60)
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait(5)
        raise RuntimeError("database down")

    def run_failing() -> None:
        with pytest.raises(RuntimeError):
            cache.get_or_make("k", failing)

    maker = threading.Thread(target=run_failing)
    maker.start()
    assert started.wait(5)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(cache.get_or_make("k", lambda: "mine")))
    waiter.start()
    release.set()
    for thread in (maker, waiter):
        thread.join(5)
    assert got == ["mine"]
