"""Concurrent drainers (threads and processes) cannot fork the log or seal a record twice."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import Backend
from txng.ledger import merkle, outbox, service
from txng.ledger.canonical import canonicalize
from txng.models import LedgerLeaf, LedgerOutbox

RECORDS = 120


def _queue(db: Session) -> list[bytes]:
    payloads = [{"n": i, "tên": f"bản ghi {i}"} for i in range(RECORDS)]
    for i, payload in enumerate(payloads):
        outbox.enqueue(db, kind="test", ref=str(i), payload=payload)
    db.commit()
    return [merkle.leaf_hash(canonicalize(p)) for p in payloads]


def _check_log(db: Session, expected: list[bytes]) -> None:
    db.expire_all()
    rows = db.execute(
        select(LedgerLeaf.leaf_index, LedgerLeaf.leaf_hash, LedgerLeaf.outbox_id).order_by(
            LedgerLeaf.leaf_index
        )
    ).all()
    assert [r.leaf_index for r in rows] == list(range(RECORDS))
    # Sealed in outbox order, each exactly once: the log is the same as one drainer's.
    assert [bytes(r.leaf_hash) for r in rows] == expected
    assert len({r.outbox_id for r in rows}) == RECORDS
    size, root = service.tree_head(db)
    assert (size, root) == (RECORDS, merkle.root_of(expected))
    pending = (
        select(func.count()).select_from(LedgerOutbox).where(LedgerOutbox.leaf_index.is_(None))
    )
    assert db.scalar(pending) == 0
    assert service.audit(db) == []


def test_two_threads_draining_at_once_build_one_log(db_session: Session, backend: Backend) -> None:
    expected = _queue(db_session)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            counts.append(service.drain(backend.sessionmaker, batch=7))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(counts) == RECORDS
    _check_log(db_session, expected)


DRAINER = """
import sys, time
from txng.db import make_engine, make_sessionmaker
from txng.ledger import service
factory = make_sessionmaker(make_engine(sys.argv[1]))
while time.time() < float(sys.argv[2]):
    time.sleep(0.005)
print(service.drain(factory, batch=5))
"""


def test_two_processes_draining_at_once_build_one_log(
    db_session: Session, backend: Backend
) -> None:
    expected = _queue(db_session)
    go = f"{time.time() + 2.0:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRAINER, backend.url, go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum(int(out.strip()) for out, _ in outputs) == RECORDS
    _check_log(db_session, expected)
