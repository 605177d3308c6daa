"""The event loop's own connection (``db.DirectReads``, ADR 18) reads what a session reads, in
the same types; a connection that breaks is dropped, the read is made through a session, and
the next direct read connects again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import factories as f
import scan_factories as sf
from txng.db import DIRECT_READS, DirectReadFailed, DirectReads, make_engine
from txng.epcis import identifiers
from txng.models.stamps import Stamp, StampScan
from txng.recalls import repository as recalls_repository
from txng.resolver import repository as resolver_repository
from txng.scans import repository as scans_repository

NOW = datetime(2026, 6, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def engine(backend: Any) -> Iterator[Engine]:
    engine = make_engine(backend.url)
    yield engine
    engine.dispose()


@pytest.fixture
def scanned(db_session: Session) -> Stamp:
    """A stamp scanned by others (one with a place, one without) and by the visitor."""
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    db_session.add_all(
        [
            StampScan(stamp_id=stamp.id, ip_hash="other-1", scanned_at=NOW - timedelta(days=3)),
            StampScan(
                stamp_id=stamp.id,
                ip_hash="other-2",
                scanned_at=NOW - timedelta(days=2, microseconds=250),
                commune_code=f.LUC_NGAN,
                latitude=21.381,
                longitude=106.52,
            ),
            StampScan(stamp_id=stamp.id, ip_hash="me", scanned_at=NOW - timedelta(minutes=1)),
        ]
    )
    db_session.commit()
    return stamp


def _reads(stamp: Stamp) -> list[Callable[[Session], Any]]:
    item = identifiers.sgtin_dl(stamp.gtin, stamp.serial)
    lot_item = identifiers.lgtin_dl(stamp.gtin, sf.LOT)
    return [
        lambda s: resolver_repository.stamp(s, stamp.gtin, stamp.serial, item=item),
        lambda s: resolver_repository.stamp(
            s, stamp.gtin, stamp.serial, item=item, lot_item=lot_item
        ),
        lambda s: resolver_repository.stamp(s, stamp.gtin, "NO-SUCH-SERIAL", item=item),
        lambda s: scans_repository.scan_history(s, stamp.id, "me", NOW - timedelta(hours=1)),
        lambda s: scans_repository.scan_history(s, stamp.id, "nobody", NOW),
    ]


def _read(engine: Engine, read: Callable[[Session], Any], direct: DirectReads | None) -> Any:
    with Session(engine) as session:
        if direct is not None:
            session.info[DIRECT_READS] = direct
        return read(session)


def _types(rows: Any) -> Any:
    if rows is None:
        return None
    return [type(v) for v in rows] if isinstance(rows, tuple) else [_types(r) for r in rows]


def test_direct_reads_give_what_a_session_gives(
    engine: Engine, scanned: Stamp, backend: Any
) -> None:
    direct = DirectReads(engine)
    for read in _reads(scanned):
        via_direct, via_session = _read(engine, read, direct), _read(engine, read, None)
        assert via_direct == via_session
        assert _types(via_direct) == _types(via_session)  # True == 1: the types too
    if backend.name == "postgresql":  # autocommit: no snapshot held between reads
        status = direct._connection.driver_connection.info.transaction_status  # type: ignore[union-attr]
        assert status == psycopg.pq.TransactionStatus.IDLE
    history = _read(engine, _reads(scanned)[3], direct)
    assert len(history) == 2  # the first scan by others, and the located one
    assert history[0].others == 2
    assert {row.scanned_at for row in history} == {
        NOW - timedelta(days=3),
        NOW - timedelta(days=2, microseconds=250),
    }
    assert all(row.scanned_at.tzinfo is not None for row in history)  # aware, as stored
    located = next(row for row in history if row.latitude is not None)
    assert (located.commune_code, located.latitude, located.longitude) == (
        f.LUC_NGAN,
        21.381,
        106.52,
    )
    stamp_row = _read(engine, _reads(scanned)[0], direct)
    assert stamp_row.serial == scanned.serial
    assert stamp_row.activated_at == scanned.activated_at
    assert stamp_row.activated_at.tzinfo is not None


def test_a_direct_read_sees_what_was_committed_since_its_last_read(
    engine: Engine, scanned: Stamp, db_session: Session
) -> None:
    direct = DirectReads(engine)
    history = _reads(scanned)[3]
    assert _read(engine, history, direct)[0].others == 2
    db_session.add(StampScan(stamp_id=scanned.id, ip_hash="other-3", scanned_at=NOW))
    db_session.commit()
    assert _read(engine, history, direct)[0].others == 3  # no snapshot held between reads


def _break(engine: Engine, direct: DirectReads, backend: Any) -> None:
    """What a restart of the database does to the connection (SQLite: it is closed)."""
    connection = direct._connection
    assert connection is not None
    if backend.name == "postgresql":
        pid = connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:
        connection.driver_connection.close()  # type: ignore[union-attr]


def test_a_broken_connection_fails_the_read_once_then_is_replaced(
    engine: Engine, scanned: Stamp, backend: Any
) -> None:
    direct = DirectReads(engine)
    read = _reads(scanned)[0]
    assert _read(engine, read, direct) is not None
    _break(engine, direct, backend)
    with pytest.raises(DirectReadFailed):
        _read(engine, read, direct)
    assert direct._connection is None  # dropped
    assert _read(engine, read, direct).serial == scanned.serial  # a new connection


def test_only_the_thread_that_holds_it_reads_directly(engine: Engine) -> None:
    direct = DirectReads(engine)
    claimed = threading.Event()
    release = threading.Event()

    def event_loop() -> None:  # an event loop's thread: the first to claim it
        assert direct.claim()
        claimed.set()
        release.wait(5)

    thread = threading.Thread(target=event_loop)
    thread.start()
    assert claimed.wait(5)
    assert not direct.claim()  # held by a running thread: this one reads through sessions
    release.set()
    thread.join()
    assert direct.claim()  # its holder ended (a test client's event loop, then another's)
    assert direct.claim()


@pytest.mark.postgresql_only
def test_disposing_the_engine_closes_the_connection(
    engine: Engine, scanned: Stamp, backend: Any
) -> None:
    direct = DirectReads(engine)
    _read(engine, _reads(scanned)[0], direct)
    held = direct._connection
    assert held is not None
    pid = held.driver_connection.info.backend_pid  # type: ignore[union-attr]
    engine.dispose()
    assert direct._connection is None
    alive = 1
    deadline = time.monotonic() + 5  # the backend ends a moment after its client has gone
    while alive and time.monotonic() < deadline:
        with backend.engine.connect() as admin:
            alive = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
        time.sleep(0.05)
    assert alive == 0


def test_the_page_is_still_served_when_the_loops_connection_breaks(
    app: FastAPI, db_session: Session, scanned: Stamp, backend: Any
) -> None:
    reads: list[str] = []
    direct: DirectReads = app.state.direct_reads
    real = direct.rows

    def rows(*args: Any, **kwargs: Any) -> Any:
        reads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    direct.rows = rows  # type: ignore[method-assign]
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200  # a connection idle in the pool
        page = c.get(sf.url(scanned), headers=sf.BROWSER, params={"lang": "en"})
        assert page.status_code == 200  # loads the facts (in a worker thread)
        reads.clear()
        page = c.get(sf.url(scanned), headers=sf.BROWSER, params={"lang": "en"})
        assert page.status_code == 200
        assert len(reads) == 2  # the stamp and its scans, read on the loop's connection
        assert "Genuine — verified 3 times before" in page.text  # the scans as committed
        _break(app.state.engine, direct, backend)
        reads.clear()
        page = c.get(sf.url(scanned), headers=sf.BROWSER, params={"lang": "en"})
        assert page.status_code == 200  # read again through a session
        assert "Luc Ngan lychee" in page.text
        assert len(reads) == 1  # the failed read
        page = c.get(sf.url(scanned), headers=sf.BROWSER, params={"lang": "en"})
        assert page.status_code == 200
        assert len(reads) == 3  # connected again


def _page(c: TestClient, stamp: Stamp) -> str:
    page = c.get(sf.url(stamp), headers=sf.BROWSER, params={"lang": "en"})
    assert page.status_code == 200
    return page.text


def test_an_items_own_events_are_shown_from_the_loop_and_a_new_one_at_once(
    app: FastAPI, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stamp's item has events of its own (its activation names it, a unit sold): their ids
    are read on every page, the events loaded once per set of ids (an activation's event names
    up to a thousand items)."""
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    sf.item_event(db_session, w, stamp, "retail_selling")
    db_session.commit()
    loads: list[bool] = []
    real = resolver_repository.published_events_by_id

    def by_id(*args: Any, **kwargs: Any) -> Any:
        loads.append(threading.current_thread().name.startswith("AnyIO worker thread"))
        return real(*args, **kwargs)

    monkeypatch.setattr(resolver_repository, "published_events_by_id", by_id)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200  # a connection idle in the pool
        assert "Retail sale" in _page(c, stamp)  # facts and events loaded in a worker thread
        assert loads
        assert all(loads)
        loads.clear()
        cached = _page(c, stamp)  # all cached: answered on the loop
        assert "Retail sale" in cached
        assert "Receiving" not in cached
        assert loads == []
        sf.item_event(db_session, w, stamp, "receiving")
        db_session.commit()
        assert "Receiving" in _page(c, stamp)  # another set of ids: loaded at once
        assert loads == [True]


def test_the_loops_other_reads_run_outside_a_transaction(
    app: FastAPI, db_session: Session, backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recall notices of a recalled stamp are read through a session on the loop: on
    PostgreSQL in autocommit (no BEGIN … ROLLBACK round trips while the loop waits)."""
    w = sf.world(db_session)
    stamp = sf.stamp(db_session, w)
    sf.recall(db_session, w)
    db_session.commit()
    statuses: list[tuple[bool, Any]] = []
    real = recalls_repository.notices_affecting

    def notices(session: Session, *args: Any, **kwargs: Any) -> Any:
        found = real(session, *args, **kwargs)
        info = getattr(session.connection().connection.driver_connection, "info", None)
        on_loop = not threading.current_thread().name.startswith("AnyIO worker thread")
        statuses.append((on_loop, getattr(info, "transaction_status", None)))  # psycopg's
        return found

    monkeypatch.setattr(recalls_repository, "notices_affecting", notices)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        for _ in range(2):  # loads the facts (a worker thread), then from the cache (the loop)
            assert "Stop eating it and return it to the shop." in _page(c, stamp)
    assert statuses[-1][0]  # read on the event loop
    if backend.name == "postgresql":
        assert statuses[-1][1] == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.postgresql_only
def test_a_pool_of_one_connection_keeps_it_for_sessions(settings: Any) -> None:
    from txng.app import create_app

    app = create_app(settings.model_copy(update={"db_pool_size": 1, "db_pool_overflow": 0}))
    try:
        assert getattr(app.state, "direct_reads", None) is None
    finally:
        app.state.engine.dispose()
