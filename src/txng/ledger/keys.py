"""The log's signing key and the verifier keys it trusts: from files and the environment only."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from txng.config import Settings
from txng.ledger import notes
from txng.ledger.notes import Signer, Verifier


@dataclass(frozen=True)
class Keyring:
    origin: str
    signer: Signer
    log_verifiers: tuple[Verifier, ...]  # the current key first, then earlier ones
    witness_verifiers: tuple[Verifier, ...]
    quorum: int

    @property
    def log_vkeys(self) -> list[str]:
        return [v.vkey for v in self.log_verifiers]

    @property
    def witness_vkeys(self) -> list[str]:
        return [v.vkey for v in self.witness_verifiers]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def write_key(path: Path, signer: Signer) -> None:
    """Write a private key file readable by its owner only, and its verifier key beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.skey + "\n")
    path.with_suffix(".pub").write_text(signer.verifier.vkey + "\n")


def read_signer(path: Path) -> Signer:
    return notes.parse_signer(path.read_text())


def log_signer(settings: Settings) -> Signer:
    if settings.ledger_signing_key:
        return notes.parse_signer(settings.ledger_signing_key)
    path = settings.ledger_key_file or settings.data_dir / "ledger" / "log.key"
    if not path.exists():
        if settings.ledger_key_file is not None:
            raise FileNotFoundError(f"ledger key file {path} does not exist")
        _create_key(path, notes.generate(settings.ledger_origin.split("/")[0] + "/log"))
    return read_signer(path)


def _create_key(path: Path, signer: Signer) -> None:
    """Write a new key file unless another worker or thread just did: the file appears whole
    (hard link of a finished temporary file), and every process reads the same key."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}{path.suffix}")
    write_key(tmp, signer)
    try:
        os.link(tmp, path)
        os.replace(tmp.with_suffix(".pub"), path.with_suffix(".pub"))
    except FileExistsError:
        tmp.with_suffix(".pub").unlink(missing_ok=True)
    except OSError:  # no hard links on this file system: still never a half-written file
        os.replace(tmp, path)
        os.replace(tmp.with_suffix(".pub"), path.with_suffix(".pub"))
    finally:
        tmp.unlink(missing_ok=True)


def load(settings: Settings) -> Keyring:
    signer = log_signer(settings)
    known = [notes.parse_verifier(v) for v in _split(settings.ledger_known_keys)]
    log_verifiers = (signer.verifier, *(v for v in known if v != signer.verifier))
    witnesses = tuple(notes.parse_verifier(v) for v in _split(settings.ledger_witness_keys))
    return Keyring(settings.ledger_origin, signer, log_verifiers, witnesses, settings.ledger_quorum)
