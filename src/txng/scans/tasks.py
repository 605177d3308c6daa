"""Work done after the response: logging a scan must never block or break the consumer page.

Each scan is handed to its database's writer thread after its response (BackgroundTasks) and a
failure is logged, never raised. The writer takes every scan that arrived while it wrote the
previous batch (and for a short tick after it) and writes them together (group commit): one
short transaction for many scans instead of one each, so a busy page does not queue for the
database's write lock. The page's background task is a coroutine that awaits its batch without
holding a worker thread (under load, a thread parked per waiting scan starved the pages of
threads and cost a hand-over each); threads that are not in an event loop call
:func:`record_scan`, which blocks. Either way a scan is stored (or its failure logged) when its
task returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from txng.db import session_scope
from txng.scans import service

log = logging.getLogger("txng.scans")

# The writer thread waits this long for more scans before it ends (a new one starts when needed).
LINGER_SECONDS = 2.0
# After a batch, the writer lets scans gather this long: a quiet site's scan is written at once,
# a busy site's in one transaction per tick, and the pages never wake the writer while it works.
GATHER_SECONDS = 0.02


def _write(maker: sessionmaker[Session], visits: list[service.Visit]) -> None:
    try:
        with session_scope(maker) as session:
            service.log_scans(session, visits=visits)
    except Exception:
        stamps = sorted({v.stamp_id for v in visits})[:10]
        log.exception("could not log %s scan(s) of stamps %s", len(visits), stamps)


def _release(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a task cancelled at shutdown no longer waits
            future.set_result(None)


class _GroupWriter:
    """One writer thread per database at a time; it writes what queued while it last wrote."""

    def __init__(self, maker: sessionmaker[Session]) -> None:
        self._maker = maker
        self._ready = threading.Condition()
        self._pending: list[tuple[service.Visit, threading.Event | asyncio.Future[None]]] = []
        self._running = False
        self._idle = False  # the thread waits for a scan: wake it

    def submit(self, visit: service.Visit, waiter: threading.Event | asyncio.Future[None]) -> None:
        with self._ready:
            self._pending.append((visit, waiter))
            if self._running:
                if self._idle:
                    self._ready.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="txng-scan-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self._pending:
                    self._idle = True
                    self._ready.wait(LINGER_SECONDS)
                    self._idle = False
                if not self._pending:
                    self._running = False
                    return
                batch, self._pending = self._pending, []
            try:
                _write(self._maker, [visit for visit, _ in batch])
            finally:
                self._release([waiter for _, waiter in batch])
            # Busy: let the next batch gather instead of being woken for each scan.
            time.sleep(GATHER_SECONDS)

    @staticmethod
    def _release(waiters: list[threading.Event | asyncio.Future[None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for waiter in waiters:
            if isinstance(waiter, threading.Event):
                waiter.set()
            else:
                by_loop.setdefault(waiter.get_loop(), []).append(waiter)
        for loop, futures in by_loop.items():  # one wake-up per event loop, not per scan
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_release, futures)


_writers: weakref.WeakKeyDictionary[Callable[[], Session], _GroupWriter] = (
    weakref.WeakKeyDictionary()
)
_writers_lock = threading.Lock()


def _writer(maker: sessionmaker[Session]) -> _GroupWriter:
    with _writers_lock:
        writer = _writers.get(maker)
        if writer is None:
            writer = _writers[maker] = _GroupWriter(maker)
        return writer


async def log_scan(
    maker: sessionmaker[Session], *, stamp_id: int, ip_hash: str, at: datetime
) -> None:
    """Log one scan in the next batch and wait for it without holding a thread."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    _writer(maker).submit(service.Visit(stamp_id, ip_hash, at), done)
    await done


def record_scan(maker: sessionmaker[Session], *, stamp_id: int, ip_hash: str, at: datetime) -> None:
    """Log one scan in the next batch, blocking the calling thread until it is written."""
    done = threading.Event()
    _writer(maker).submit(service.Visit(stamp_id, ip_hash, at), done)
    done.wait()
