"""Fixtures of the ledger tests: an app configured with a log key and two witnesses, served
in process (TestClient) or by uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ledger.ledger_helpers import AGRI, HEALTH
from txng.app import create_app
from txng.config import Settings
from txng.ledger import keys, notes


@pytest.fixture
def ledger_app(settings: Settings, db_session: Session, tmp_path: Path) -> Iterator[FastAPI]:
    log_key = notes.generate("txng.test/log")
    keys.write_key(tmp_path / "log.key", log_key)
    configured = settings.model_copy(
        update={
            "ledger_key_file": tmp_path / "log.key",
            "ledger_witness_keys": f"{HEALTH.verifier.vkey},{AGRI.verifier.vkey}",
            "ledger_quorum": 2,
        }
    )
    application = create_app(configured)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def api(ledger_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(ledger_app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def log_server(ledger_app: FastAPI) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(ledger_app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
