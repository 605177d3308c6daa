"""The ledger in ``txng demo``: everything published is sealed, signed and witnessed by two
agencies (health and agriculture departments), each a separate ``txng witness`` process."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

from txng.config import Settings, get_settings
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.ledger import keys, notes, service

WITNESSES = {
    "health": "soyte.bacninh.gov.vn/witness",
    "agriculture": "sonnmt.bacninh.gov.vn/witness",
}


def _witness_keys(folder: Path) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    for agency, name in WITNESSES.items():
        path = folder / f"{agency}.key"
        if not path.exists():
            keys.write_key(path, notes.generate(name, alg=notes.ALG_COSIGNATURE_V1))
        paths[agency] = path
    return paths


def prepare(settings: Settings, *, host: str, port: int) -> Settings:
    """Configure the ledger for the demo, seal and sign now, start the two witnesses."""
    folder = settings.data_dir / "ledger"
    witness_keys = _witness_keys(folder / "witnesses")
    vkeys = ",".join(keys.read_signer(p).verifier.vkey for p in witness_keys.values())
    os.environ.setdefault("TXNG_LEDGER_WITNESS_KEYS", vkeys)
    os.environ.setdefault("TXNG_LEDGER_QUORUM", "2")
    os.environ.setdefault("TXNG_LEDGER_BACKGROUND", "1")
    os.environ.setdefault("TXNG_LEDGER_CHECKPOINT_SECONDS", "30")
    get_settings.cache_clear()
    settings = get_settings()
    ring = keys.load(settings)
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_sessionmaker(engine)
    service.drain(factory)
    with session_scope(factory) as session:
        service.sign_checkpoint(session, keyring=ring)
    engine.dispose()
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    for agency, key in witness_keys.items():
        _start_witness(folder, agency, key, url, ring.signer.verifier.vkey, settings.ledger_origin)
    return settings


def _start_witness(
    folder: Path, agency: str, key: Path, url: str, log_vkey: str, origin: str
) -> None:
    log = (folder / f"witness-{agency}.log").open("a")
    proc = subprocess.Popen(  # noqa: S603
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
            str(folder / f"witness-{agency}.json"),
            "--log-key",
            log_vkey,
            "--origin",
            origin,
            "--interval",
            "3",
            "--exit-with-parent",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    atexit.register(stop)
