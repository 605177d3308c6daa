"""Test fixtures: every database test runs on SQLite and, where a server answers (always in CI),
on PostgreSQL, with one database per xdist worker and empty tables for each test."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from txng.app import create_app
from txng.config import Settings
from txng.db import make_engine, make_sessionmaker
from txng.migrations import runner
from txng.models import Base

PG_ADMIN_URL = os.environ.get("TXNG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Two checkouts testing at once on one server (a developer and a CI run) need different names.
PG_DB_PREFIX = os.environ.get("TXNG_TEST_DB_PREFIX", "txng_test")


T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` in a thread of its own: Playwright's sync API leaves an event loop
    running in the worker's main thread once a browser test has run there."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(make()))
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if failure:
        raise failure[0]
    assert result, "the coroutine did not finish within 60 s"
    return result[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("TXNG_TEST_DB", "auto"),
        choices=("auto", "sqlite", "postgresql", "all"),
        help="auto: SQLite, plus PostgreSQL when it answers (required when CI is set)",
    )


def _postgres_answers() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _backends(config: pytest.Config) -> list[str]:
    choice = config.getoption("--db")
    if choice == "sqlite":
        return ["sqlite"]
    if choice == "postgresql":
        return ["postgresql"]
    if choice == "all" or os.environ.get("CI"):
        return ["sqlite", "postgresql"]
    return ["sqlite", "postgresql"] if _postgres_answers() else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    config.txng_backends = _backends(config)  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    return "txng databases: " + ", ".join(config.txng_backends)  # type: ignore[attr-defined]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = list(metafunc.config.txng_backends)  # type: ignore[attr-defined]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            # A behaviour SQLite cannot show (it serialises writers): run where it can happen.
            backends = [b for b in backends if b == "postgresql"]
        metafunc.parametrize(
            "backend",
            backends,
            indirect=True,
            scope="session",
        )


@dataclass
class Backend:
    name: str
    url: str
    engine: Engine
    sessionmaker: sessionmaker[Session]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _create_pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    name = request.param
    if name == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'txng.sqlite3'}"
    else:
        url = _create_pg_database(f"{PG_DB_PREFIX}_{_worker()}")
    runner.upgrade(url)
    engine = make_engine(url)
    yield Backend(name, url, engine, make_sessionmaker(engine))
    engine.dispose()


def _empty_tables(backend: Backend) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with backend.engine.begin() as conn:
        if backend.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db_session(backend: Backend) -> Iterator[Session]:
    """A session on an empty, migrated database; the test commits what it wants the app to see."""
    session = backend.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        _empty_tables(backend)


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return Settings(
        database_url=backend.url,
        data_dir=tmp_path / "var",
        secret_key="test-secret",
        max_image_bytes=200_000,
        max_document_bytes=300_000,
    )


@pytest.fixture
def app(settings: Settings, db_session: Session) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


from browser_fixtures import browser, live_server  # noqa: E402, F401


class Clock:
    """A monotonic clock that tests move by hand (``clock.now += seconds``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
