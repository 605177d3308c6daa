"""`txng ledger keygen | drain | checkpoint | audit` and `txng verify`, as separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from conftest import Backend
from ledger.ledger_helpers import publish_product
from txng.config import Settings
from txng.db import session_scope
from txng.ledger import keys, notes, service
from txng.models import ReviewItem


def _txng(tmp_path: Path, backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TXNG_DATABASE_URL": backend.url,
        "TXNG_DATA_DIR": str(tmp_path / "var"),
        "TXNG_LEDGER_QUORUM": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "txng.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_drain_checkpoint_audit_and_offline_verify(
    db_session: Session, backend: Backend, tmp_path: Path
) -> None:
    product, item = publish_product(db_session)
    db_session.commit()

    assert "Sealed 2 records" in _txng(tmp_path, backend, "ledger", "drain").stdout
    signed = _txng(tmp_path, backend, "ledger", "checkpoint")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith("txng.bacninh.gov.vn/ledger\n2\n")
    ok = _txng(tmp_path, backend, "ledger", "audit")
    assert ok.returncode == 0
    assert "All 2 leaves match" in ok.stdout

    ring = keys.load(Settings(data_dir=tmp_path / "var"))
    with session_scope(backend.sessionmaker) as s:
        leaf = service.find_leaf(s, kind="product", ref=str(product.id), leaf_index=None)
        bundle = service.bundle(s, leaf=leaf, keyring=ring)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    checked = _txng(tmp_path, backend, "verify", str(path))
    assert checked.returncode == 0, checked.stdout
    assert "leaf 0 is in tree 2" in checked.stdout
    pinned = _txng(
        tmp_path, backend, "verify", str(path), "--log-key", notes.generate("x").verifier.vkey
    )
    assert pinned.returncode == 1

    forged = {**bundle, "record": bundle["record"].replace("Vải thiều", "Vải nhập")}
    path.write_text(json.dumps(forged))
    refused = _txng(tmp_path, backend, "verify", str(path))
    assert refused.returncode == 1
    assert "inclusion proof" in refused.stdout

    snapshot = {**item.snapshot, "name_vi": "Tên đã bị sửa"}
    db_session.execute(update(ReviewItem).where(ReviewItem.id == item.id).values(snapshot=snapshot))
    db_session.commit()
    bad = _txng(tmp_path, backend, "ledger", "audit")
    assert bad.returncode == 1
    assert f"leaf 0: product {product.id}: changed" in bad.stdout


def test_keygen_writes_a_private_key_and_its_verifier(tmp_path: Path, backend: Backend) -> None:
    out = tmp_path / "yte.key"
    made = _txng(
        tmp_path,
        backend,
        "ledger",
        "keygen",
        "--name",
        "yte.test/witness",
        "--out",
        str(out),
        "--witness",
    )
    assert made.returncode == 0, made.stderr
    signer = keys.read_signer(out)
    assert signer.alg == notes.ALG_COSIGNATURE_V1
    assert (
        made.stdout.strip() == signer.verifier.vkey == out.with_suffix(".pub").read_text().strip()
    )
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    again = _txng(tmp_path, backend, "ledger", "keygen", "--name", "x", "--out", str(out))
    assert again.returncode == 1
    assert keys.read_signer(out) == signer
