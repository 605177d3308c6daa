"""The embedded SQLite database runs in WAL mode with foreign keys enforced."""

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
