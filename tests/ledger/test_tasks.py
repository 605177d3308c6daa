"""The web process's background round: seal what was published, sign checkpoints on schedule."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.orm import Session

from conftest import Backend
from ledger.ledger_helpers import publish_product
from txng.config import Settings
from txng.db import session_scope
from txng.ledger import notes, repository, tasks


def test_the_background_thread_seals_and_signs_without_being_asked(
    db_session: Session, backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    configured = settings.model_copy(
        update={
            "ledger_signing_key": notes.generate("txng.test/log").skey,
            "ledger_drain_seconds": 0.05,
            "ledger_checkpoint_seconds": 0.0,
        }
    )
    stop = tasks.start(backend.sessionmaker, configured)
    try:
        publish_product(db_session)
        db_session.commit()
        deadline = time.monotonic() + 20
        size = 0
        while time.monotonic() < deadline and size < 2:
            time.sleep(0.1)
            with session_scope(backend.sessionmaker) as s:
                cp = repository.latest_checkpoint(s)
                size = cp.tree_size if cp is not None else 0
        assert size == 2
    finally:
        stop.set()
        time.sleep(0.2)
