"""Scans logged at the same time are written together (group commit), and none is lost."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scan_factories as sf
from conftest import Backend, run_async
from txng.models.base import utcnow
from txng.models.stamps import Stamp, StampScan
from txng.scans import tasks

VISITORS = 20


def _in_threads(target: object, count: int) -> None:
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        target(i)  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a scan task never returned"


class SlowFirstSession:
    """A session factory whose first session comes slowly: the other scans queue behind it."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.made = 0

    def __call__(self) -> Session:
        self.made += 1
        if self.made == 1:
            time.sleep(0.3)
        return self.backend.sessionmaker()


@pytest.fixture
def stamp(db_session: Session) -> Stamp:
    made = sf.stamp(db_session, sf.world(db_session))
    db_session.commit()
    return made


def test_concurrent_scans_are_all_stored_in_a_few_transactions(
    backend: Backend, db_session: Session, stamp: Stamp
) -> None:
    slow_maker = SlowFirstSession(backend)
    now = utcnow()
    _in_threads(
        lambda i: tasks.record_scan(slow_maker, stamp_id=stamp.id, ip_hash=f"ip-{i}", at=now),  # type: ignore[arg-type]
        VISITORS,
    )
    stored = db_session.scalar(
        select(func.count()).select_from(StampScan).where(StampScan.stamp_id == stamp.id)
    )
    assert stored == VISITORS
    assert slow_maker.made <= 3  # not one transaction per scan


def test_a_failing_batch_is_logged_and_releases_every_waiting_scan(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Session:
        time.sleep(0.1)
        raise RuntimeError("database is locked")

    with caplog.at_level(logging.ERROR, logger="txng.scans"):
        _in_threads(
            lambda i: tasks.record_scan(broken, stamp_id=i + 1, ip_hash="x", at=utcnow()),  # type: ignore[arg-type]
            8,
        )
    logged = sum(int(r.getMessage().split()[3]) for r in caplog.records)
    assert logged == 8  # every scan is accounted for in a "could not log N scan(s)" line


def test_scans_awaited_in_one_event_loop_are_stored_together(
    backend: Backend, db_session: Session, stamp: Stamp
) -> None:
    """The consumer page's task: many scans awaited at once, no thread held per scan."""
    slow_maker = SlowFirstSession(backend)
    now = utcnow()

    async def visitors() -> None:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    tasks.log_scan(slow_maker, stamp_id=stamp.id, ip_hash=f"ip-{i}", at=now)  # type: ignore[arg-type]
                    for i in range(VISITORS)
                )
            ),
            timeout=30,
        )
        # every task has returned: its scan is in the database
        with backend.sessionmaker() as s:
            count = select(func.count()).select_from(StampScan)
            assert s.scalar(count.where(StampScan.stamp_id == stamp.id)) == VISITORS

    run_async(visitors)
    assert slow_maker.made <= 3
