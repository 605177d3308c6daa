"""The embedded SQLite database runs in WAL mode with foreign keys enforced; pooled PostgreSQL
connections survive a restart of the server."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from txng.db import make_engine
from txng.migrations import runner


def test_sqlite_uses_wal_and_enforces_foreign_keys(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'txng.sqlite3'}"
    runner.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO facility (organisation_id, kind, name, location_code, province_code,"
                " commune_code, street_address, created_at, updated_at)"
                " VALUES (999, 'farm', 'x', 'x', '24', '07582', '', '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()


@pytest.mark.postgresql_only
def test_a_connection_killed_while_idle_is_replaced_before_use(backend, monkeypatch) -> None:
    """After a database restart the next request still gets an answer: a pooled connection
    that sat idle is pinged before use and replaced when the server has closed it."""
    engine = make_engine(backend.url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            old_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with backend.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid})
        monkeypatch.setattr("txng.db.IDLE_PING_SECONDS", 0.0)
        with engine.connect() as conn:
            new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert new_pid != old_pid
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_a_busy_connection_is_not_pinged(backend) -> None:
    """Under load (a connection returned and taken again at once) no extra round trip is made."""
    engine = make_engine(backend.url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    monkey = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or monkey(c)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_the_connection_returned_last_serves_the_next_request(backend) -> None:
    """A few warm connections serve the requests; a cold backend costs milliseconds on its
    first statements (ADR 17)."""
    engine = make_engine(backend.url, pool_size=5, max_overflow=0)
    pid = "SELECT pg_backend_pid()"
    try:
        with engine.connect() as first:
            with engine.connect() as second:
                second.execute(text(pid))
            warm = first.execute(text(pid)).scalar()  # returned after the second
        for _ in range(3):
            with engine.connect() as conn:
                assert conn.execute(text(pid)).scalar() == warm
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_the_app_keeps_as_many_connections_as_configured(backend, settings) -> None:
    from txng.app import create_app

    app = create_app(settings.model_copy(update={"db_pool_size": 7, "db_pool_overflow": 3}))
    try:
        assert app.state.engine.pool.size() == 7
    finally:
        app.state.engine.dispose()
