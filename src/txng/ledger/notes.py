"""C2SP signed notes with Ed25519: checkpoints (c2sp.org/tlog-checkpoint), signature lines
(c2sp.org/signed-note) and witness cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

Keys are text, as in Go's ``golang.org/x/mod/sumdb/note``:
``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`` and the verifier key
``<name>+<key id hex>+<base64(type || public key)>``. A log key has type 0x01 (plain Ed25519
note signature); a witness key has type 0x04 (timestamped cosignature).
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
DASH = "\u2014"  # the em dash that starts every signature line
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_SIZE = re.compile(r"0|[1-9][0-9]{0,17}")  # decimal, no leading zeros, fits a BIGINT


class NoteError(ValueError):
    """A malformed note or key, or a signature that does not verify."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise NoteError("bad base64") from exc


def key_id(name: str, alg: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError("a key name must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class Verifier:
    name: str
    alg: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    alg: int
    seed: bytes

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, self.alg, public)

    @property
    def skey(self) -> str:
        kid = self.verifier.key_id.hex()
        return f"{_PRIVATE_PREFIX}{self.name}+{kid}+{_b64(bytes([self.alg]) + self.seed)}"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate(name: str, *, alg: int = ALG_ED25519) -> Signer:
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(name, alg, seed)


def _split_key(text: str) -> tuple[str, str, bytes]:
    parts = text.strip().split("+", 2)  # names hold no "+", base64 may
    if len(parts) != 3:
        raise NoteError("malformed key")
    name, kid, blob = parts
    raw = _unb64(blob)
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("not an Ed25519 key")
    return name, kid, raw


def parse_signer(text: str) -> Signer:
    text = text.strip()
    if not text.startswith(_PRIVATE_PREFIX):
        raise NoteError("not a private key")
    name, kid, raw = _split_key(text.removeprefix(_PRIVATE_PREFIX))
    signer = Signer(name, raw[0], raw[1:])
    if signer.verifier.key_id.hex() != kid.lower():
        raise NoteError("the key id does not match the key")
    return signer


def parse_verifier(text: str) -> Verifier:
    name, kid, raw = _split_key(text)
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id.hex() != kid.lower():
        raise NoteError("the key id does not match the key")
    return verifier


# notes -----------------------------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{_b64(root)}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def body(self) -> str:
        return checkpoint_body(self.origin, self.size, self.root)


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not _SIZE.fullmatch(lines[1]):
        raise NoteError("malformed checkpoint body")
    root = _unb64(lines[2])
    if len(root) != 32:
        raise NoteError("a checkpoint root is 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key id: the signature (plus the timestamp of a cosignature)

    @property
    def line(self) -> str:
        return f"{DASH} {self.name} {_b64(self.key_id + self.blob)}\n"


def signature_line(signer: Signer, body: str) -> str:
    sig = signer.sign(body.encode())
    return Signature(signer.name, signer.verifier.key_id, sig).line


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_line(signer: Signer, body: str, timestamp: int) -> str:
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError("a witness key must be a cosignature/v1 key")
    sig = signer.sign(cosignature_message(body, timestamp))
    return Signature(signer.name, signer.verifier.key_id, struct.pack(">Q", timestamp) + sig).line


def sign_note(body: str, signers: Iterable[Signer]) -> str:
    if not body.endswith("\n"):
        raise NoteError("a note body ends with a newline")
    return body + "\n" + "".join(signature_line(s, body) for s in signers)


def parse_signature_line(line: str) -> Signature:
    line = line.rstrip("\n")
    if not line.startswith(DASH + " "):
        raise NoteError("a signature line starts with an em dash")
    try:
        name, blob = line[2:].split(" ")
    except ValueError as exc:
        raise NoteError("malformed signature line") from exc
    raw = _unb64(blob)
    if len(raw) < 5:
        raise NoteError("signature too short")
    return Signature(name, raw[:4], raw[4:])


def split_note(text: str) -> tuple[str, list[Signature]]:
    """The body and the signature lines of a signed note."""
    body, sep, sigs = text.rpartition("\n\n")
    if not sep:
        raise NoteError("a signed note has a blank line before its signatures")
    return body + "\n", [parse_signature_line(line) for line in sigs.splitlines() if line]


@dataclass(frozen=True)
class Verified:
    verifier: Verifier
    timestamp: int | None  # cosignatures only


def verify_signature(body: str, sig: Signature, verifier: Verifier) -> Verified:
    if sig.name != verifier.name or sig.key_id != verifier.key_id:
        raise NoteError("signature by another key")
    if verifier.alg == ALG_COSIGNATURE_V1:
        if len(sig.blob) != 72:
            raise NoteError("a cosignature is a timestamp and a signature")
        (timestamp,) = struct.unpack(">Q", sig.blob[:8])
        if not verifier.verify(cosignature_message(body, timestamp), sig.blob[8:]):
            raise NoteError("cosignature does not verify")
        return Verified(verifier, timestamp)
    if not verifier.verify(body.encode(), sig.blob):
        raise NoteError("signature does not verify")
    return Verified(verifier, None)


def verify_note(
    text: str, verifiers: Sequence[Verifier]
) -> tuple[str, list[Verified], list[Signature]]:
    """Split a note and check every signature whose key is known; the body, the verified
    signatures and the ones of unknown keys. A known key with a bad signature raises."""
    body, sigs = split_note(text)
    good: list[Verified] = []
    unknown: list[Signature] = []
    for sig in sigs:
        matching = [v for v in verifiers if v.name == sig.name and v.key_id == sig.key_id]
        if not matching:
            unknown.append(sig)
            continue
        good.append(verify_signature(body, sig, matching[0]))
    return body, good, unknown
