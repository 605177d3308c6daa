"""The log's key is made once: workers starting together all sign with the same key."""

from __future__ import annotations

import threading
from pathlib import Path

from txng.config import Settings
from txng.ledger import keys


def test_workers_creating_the_log_key_at_once_all_read_one_whole_key(tmp_path: Path) -> None:
    settings = Settings(
        database_url="sqlite://", data_dir=tmp_path / "var", secret_key="test-secret"
    )
    start = threading.Barrier(8)
    found: list[str] = []
    failed: list[BaseException] = []

    def load() -> None:
        start.wait()
        try:
            found.append(keys.log_signer(settings).verifier.vkey)
        except BaseException as exc:  # a half-written file read by another worker
            failed.append(exc)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failed == []
    assert len(found) == 8
    assert len(set(found)) == 1
    folder = tmp_path / "var" / "ledger"
    assert sorted(p.name for p in folder.iterdir()) == ["log.key", "log.pub"]
    assert (folder / "log.pub").read_text().strip() == found[0]
