"""Engine and session handling. Services never commit; the boundary (request, CLI, job) does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# A pooled PostgreSQL connection unused for this long is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # The connection returned last is handed out first: a few warm connections serve the
    # requests (their backends have the catalogue and plans loaded; a cold one costs some
    # milliseconds on its first statements) and the others idle, pinged before reuse (ADR 17).
    engine = create_engine(url, **{"pool_use_lifo": True, **kwargs})
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle: after a restart of the
    database the first request gets a fresh connection instead of an error, while under load
    (connections returned and taken again within milliseconds) no request pays a round trip
    for it, as SQLAlchemy's ``pool_pre_ping`` would on every checkout."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool connects again
            raise DisconnectionError() from exc


def without_transaction(session: Session) -> None:
    """Run a read-only request's statements outside a transaction on PostgreSQL: no BEGIN and
    COMMIT round trips (two of the five a consumer page made). Call it before the session's
    first statement, only where nothing is written; SQLite keeps its usual transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: the transaction boundary for CLI and jobs."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
