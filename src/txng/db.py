"""Engine and session handling. Services never commit; the boundary (request, CLI, job) does."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeAlias

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

log = logging.getLogger(__name__)
AnySelect: TypeAlias = Select[*tuple[Any, ...]]  # any SELECT (its columns are variadic)

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


# The key of a session's DirectReads in ``Session.info`` (see read_rows).
DIRECT_READS: Final = "txng.direct_reads"


class DirectReadFailed(Exception):
    """A direct read failed on its connection (closed since): read through a session instead."""


class _Prepared:
    """A Core ``SELECT`` compiled once for a dialect, with the conversions of its types."""

    def __init__(self, statement: AnySelect, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:  # an expanding IN or a literal rendered per call
            raise ValueError("a direct read takes plain bind parameters only")
        self._dialect = dialect
        self._compiled = compiled
        self.sql = compiled.string
        self._positional = compiled.positiontup  # qmark order (SQLite); None: named (psycopg)
        self._escaped = compiled.escaped_bind_names  # as SQLAlchemy's execution context does
        self._binds = {
            name: convert
            for bind, name in compiled.bind_names.items()
            if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self._types = [column.type for column in statement.selected_columns]
        self._results: list[Any] | None = None  # per column, from the first answer's type codes

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        # the statement's constants too; keyed by bind name, converted, then named as rendered
        params = self._compiled.construct_params(dict(values), escape_names=False)
        for name, convert in self._binds.items():
            params[name] = convert(params[name])
        if self._positional is not None:
            return tuple(params[name] for name in self._positional)
        return {self._escaped.get(name, name): value for name, value in params.items()}

    def rows(self, cursor: Any) -> list[tuple[Any, ...]]:
        rows = cursor.fetchall()
        if self._results is None:  # the description is made anew at each read: once is enough
            dialect = self._dialect
            self._results = [
                kind.dialect_impl(dialect).result_processor(dialect, column[1])
                for kind, column in zip(self._types, cursor.description, strict=True)
            ]
        converts = self._results
        if not any(converts):
            return [tuple(row) for row in rows]
        return [
            tuple(value if c is None else c(value) for c, value in zip(converts, row, strict=True))
            for row in rows
        ]


class DirectReads:
    """A database connection of one thread, the worker's event loop, for the few reads made on
    every consumer page (ADR 18): no ORM session, no pool checkout and return, no statement
    compiled per call. The statements are SQLAlchemy Core ``SELECT``s with plain bind
    parameters, compiled once; values are converted as SQLAlchemy converts them. On
    PostgreSQL the connection is in autocommit, as :func:`without_transaction` (each read its
    own snapshot, no BEGIN/COMMIT round trips); on SQLite a ``SELECT`` opens no transaction.

    A read that fails raises :class:`DirectReadFailed`, so that the caller reads through a
    session; when the connection is gone (a restart of the database) it is closed first and the
    next read connects again. The connection is taken
    from the engine's pool (its connect events and checks) and closed, not returned, when the
    engine is disposed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: PoolProxiedConnection | None = None
        self._owner: threading.Thread | None = None
        self._prepared: dict[AnySelect, _Prepared] = {}
        self._lock = threading.Lock()
        # the request's other reads (an item's own events, recall notices) go through a session
        # made lazily: on PostgreSQL in autocommit too, as ``without_transaction``
        postgresql = engine.dialect.name == "postgresql"
        self._reading = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if postgresql else engine
        )
        event.listen(engine, "engine_disposed", self._disposed)

    def session(self) -> Session:
        """A session for a request that reads here (``read_rows``); only reads, never commits."""
        session = Session(self._reading, autoflush=False, expire_on_commit=False)
        session.info[DIRECT_READS] = self
        return session

    def claim(self) -> bool:
        """Whether the calling thread may read here: it is the owner, or the owner has ended
        (a test's event loop after another's). Other threads read through sessions."""
        me = threading.current_thread()
        with self._lock:
            if self._owner is not me and self._owner is not None and self._owner.is_alive():
                return False
            self._owner = me
            return True

    def rows(self, statement: AnySelect, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` with ``values`` for its bind parameters (plain tuples)."""
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = _Prepared(statement, self._engine.dialect)
        parameters = prepared.parameters(values)
        try:
            connection = self._connect()
        except SQLAlchemyError as exc:  # the pool is exhausted, the database is down, …
            raise DirectReadFailed(str(exc)) from exc
        cursor = None
        try:
            cursor = connection.cursor()
            cursor.execute(prepared.sql, parameters)
            return prepared.rows(cursor)
        except self._engine.dialect.loaded_dbapi.Error as exc:
            if self._engine.dialect.is_disconnect(exc, connection.dbapi_connection, cursor):
                log.warning("direct read failed, its connection is closed: %s", exc)
                self.close()
            raise DirectReadFailed(str(exc)) from exc
        finally:
            if cursor is not None:
                with contextlib.suppress(Exception):  # a cursor of a dead connection
                    cursor.close()

    def _connect(self) -> PoolProxiedConnection:
        connection = self._connection
        if connection is None:
            connection = self._engine.raw_connection()
            if self._engine.dialect.name == "postgresql":
                connection.driver_connection.autocommit = True  # type: ignore[union-attr]
            self._connection = connection
        return connection

    def close(self) -> None:
        """Close the connection (a next read opens another)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()  # closed, not returned: it is in autocommit

    def _disposed(self, _engine: Engine) -> None:
        self.close()


def read_rows(session: Session, statement: AnySelect, values: Mapping[str, Any]) -> Sequence[Any]:
    """The rows of a read made on every consumer page: on the session's DirectReads when the
    request put one in ``session.info`` (an event loop's request), else on the session."""
    direct: DirectReads | None = session.info.get(DIRECT_READS)
    if direct is not None:
        return direct.rows(statement, values)
    return session.connection().execute(statement, dict(values)).all()
