"""The log served by uvicorn on loopback and two witness processes of two agencies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session

from conftest import Backend
from ledger.ledger_helpers import AGRI, HEALTH, publish_product
from txng.db import session_scope
from txng.ledger import keys, service
from txng.ledger import witness as w


def _run_witness(url: str, key: Path, state: Path, log_vkey: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "txng.cli.main",
            "witness",
            "--key",
            str(key),
            "--log-url",
            url,
            "--state",
            str(state),
            "--log-key",
            log_vkey,
            "--once",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> int:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    return proc.returncode


def _sign(backend: Backend, ring: keys.Keyring) -> None:
    service.drain(backend.sessionmaker)
    with session_scope(backend.sessionmaker) as s:
        service.sign_checkpoint(s, keyring=ring)


def test_two_witness_processes_reach_the_quorum_and_one_down_catches_up(
    log_server: str,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
    tmp_path: Path,
) -> None:
    ring = keys.load(ledger_app.state.settings)
    log_vkey = ring.signer.verifier.vkey
    keys.write_key(tmp_path / "health.key", HEALTH)
    keys.write_key(tmp_path / "agri.key", AGRI)
    publish_product(db_session, name="Gạo nếp cái hoa vàng")
    db_session.commit()
    _sign(backend, ring)

    # Both agencies' processes at once: the checkpoint becomes final.
    procs = [
        _run_witness(log_server, tmp_path / f"{n}.key", tmp_path / f"{n}.json", log_vkey)
        for n in ("health", "agri")
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    with session_scope(backend.sessionmaker) as s:
        view = service.latest_view(s, keyring=ring)
        assert view.final
        assert view.checkpoint.tree_size == 2

    # The agriculture witness is down: the next checkpoint waits, pending, and is not lost.
    publish_product(db_session, name="Mật ong bạc hà")
    db_session.commit()
    _sign(backend, ring)
    health = _run_witness(log_server, tmp_path / "health.key", tmp_path / "health.json", log_vkey)
    assert _finish(health) == 0
    with session_scope(backend.sessionmaker) as s:
        view = service.latest_view(s, keyring=ring)
        assert (view.checkpoint.tree_size, len(view.cosignatures), view.final) == (4, 1, False)

    # Back up, it proves consistency from the tree it last cosigned (2) and catches up.
    agri = _run_witness(log_server, tmp_path / "agri.key", tmp_path / "agri.json", log_vkey)
    assert _finish(agri) == 0
    with session_scope(backend.sessionmaker) as s:
        view = service.latest_view(s, keyring=ring)
        assert (view.checkpoint.tree_size, view.final) == (4, True)
    assert w.load_state(tmp_path / "agri.json").size == 4


def test_a_witness_process_exits_non_zero_on_alarm(
    log_server: str,
    ledger_app: FastAPI,
    db_session: Session,
    backend: Backend,
    tmp_path: Path,
) -> None:
    ring = keys.load(ledger_app.state.settings)
    keys.write_key(tmp_path / "health.key", HEALTH)
    publish_product(db_session)
    db_session.commit()
    _sign(backend, ring)
    # The witness remembers a bigger tree than the log now shows: the log shrank.
    w.save_state(tmp_path / "health.json", w.WitnessState(size=50, root=ring.signer.name))
    proc = _run_witness(
        log_server, tmp_path / "health.key", tmp_path / "health.json", ring.signer.verifier.vkey
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "ALARM" in err
    assert "shrank" in err
