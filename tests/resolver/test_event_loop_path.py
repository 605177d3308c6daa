"""A stamp page whose facts are cached is served on the event loop; anything that would load
facts or wait for a connection is served from a worker thread, with the same page and scans."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scan_factories as sf
from conftest import Clock
from txng.kit.ttlcache import TTLCache
from txng.models.stamps import Stamp, StampScan
from txng.resolver import service as resolver_service


@pytest.fixture
def served_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the threads that resolved each request."""
    threads: list[str] = []
    real = resolver_service.resolve

    def resolve(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resolver_service, "resolve", resolve)
    return threads


@pytest.fixture
def stamp(db_session: Session) -> Stamp:
    w = sf.world(db_session)
    made = sf.stamp(db_session, w)
    db_session.commit()
    return made


def _visit(app: FastAPI, path: str, ip: str, **headers: str) -> str:
    with TestClient(app, client=(ip, 50000)) as c:
        response = c.get(path, headers={**sf.BROWSER, **headers}, params={"lang": "en"})
        assert response.status_code == 200, response.text[:300]
        return response.text


def _scans(db: Session, stamp_id: int) -> int:
    count = select(func.count()).select_from(StampScan).where(StampScan.stamp_id == stamp_id)
    return int(db.scalar(count) or 0)


def test_cached_facts_are_served_on_the_loop_with_the_same_page_and_every_scan(
    app: FastAPI, db_session: Session, stamp: Stamp, served_from: list[str]
) -> None:
    with TestClient(app) as c:  # a connection in the pool, idle: the loop may take it
        assert c.get("/healthz").status_code == 200
    first = _visit(app, sf.url(stamp), "203.0.113.1")
    second = _visit(app, sf.url(stamp), "203.0.113.2")
    # the first request loaded the facts (a worker thread, after the loop found them missing);
    # the second found them cached and was answered where it arrived
    assert len(served_from) == 3
    on_loop = [not name.startswith("AnyIO worker thread") for name in served_from]
    assert on_loop == [True, False, True]
    assert "Luc Ngan lychee" in first
    assert "Luc Ngan lychee" in second
    assert "Genuine — first verified now" in first
    assert "Genuine — verified 1 times before" in second
    # the attempt on the loop did not log the first scan twice
    assert _scans(db_session, stamp.id) == 2


def test_a_linkset_is_always_read_fresh_from_a_worker_thread(
    app: FastAPI, db_session: Session, stamp: Stamp, served_from: list[str]
) -> None:
    _visit(app, sf.url(stamp), "203.0.113.1")  # facts cached for pages
    served_from.clear()
    body = _visit(app, sf.url(stamp), "203.0.113.3", Accept="application/linkset+json")
    assert '"linkset"' in body
    assert len(served_from) == 1
    assert served_from[0].startswith("AnyIO worker thread")  # not the TestClient's event loop


def test_a_province_with_a_distant_database_turns_the_loop_path_off(
    app: FastAPI, db_session: Session, stamp: Stamp, served_from: list[str]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"resolver_on_event_loop": False})
    for ip in ("203.0.113.1", "203.0.113.2"):
        assert "Luc Ngan lychee" in _visit(app, sf.url(stamp), ip)
    assert [name.startswith("AnyIO worker thread") for name in served_from] == [True, True]


def test_when_cached_facts_expire_one_request_refreshes_them_after_its_answer(
    app: FastAPI,
    db_session: Session,
    stamp: Stamp,
    served_from: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[int] = []
    real = resolver_service.published

    def published(*args: object, **kwargs: object) -> object:
        loads.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resolver_service, "published", published)
    clock = Clock()
    app.state.consumer_cache = TTLCache(app.state.settings.consumer_cache_seconds, clock=clock)
    with TestClient(app) as c:  # a connection in the pool, idle: the loop may take it
        assert c.get("/healthz").status_code == 200
    _visit(app, sf.url(stamp), "203.0.113.1")  # loads the facts (loop, then a worker thread)
    clock.now += app.state.settings.consumer_cache_seconds + 1  # every cached fact expired
    served_from.clear()
    for ip in ("203.0.113.2", "203.0.113.3", "203.0.113.4"):
        assert "Luc Ngan lychee" in _visit(app, sf.url(stamp), ip)
    on_loop = [not name.startswith("AnyIO worker thread") for name in served_from]
    # the first found the facts expired and was answered on the loop with them, then made
    # them again in a worker thread after its answer; the next were answered on the loop
    assert on_loop == [True, False, True, True]
    assert len(loads) == 2  # loaded, then refreshed once
    assert _scans(db_session, stamp.id) == 4  # the refresh logged no scan
