"""The same Alembic migrations serve SQLite and PostgreSQL, up and down."""

from sqlalchemy import inspect

from txng.migrations import runner
from txng.models import Base


def test_upgrade_downgrade_upgrade(backend) -> None:
    runner.downgrade(backend.url, "base")
    assert set(inspect(backend.engine).get_table_names()) <= {"alembic_version"}
    runner.upgrade(backend.url)
    tables = set(inspect(backend.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
