"""C2SP signed notes, checkpoints and cosignatures with Ed25519; key rotation."""

from __future__ import annotations

import base64
import hashlib

import pytest

from txng.ledger import notes


def test_key_id_is_the_c2sp_hash_of_name_type_and_key() -> None:
    signer = notes.generate("log.example")
    v = signer.verifier
    assert v.key_id == hashlib.sha256(b"log.example\n\x01" + v.public).digest()[:4]
    assert notes.parse_verifier(v.vkey) == v
    assert notes.parse_signer(signer.skey) == signer
    assert v.vkey.startswith(f"log.example+{v.key_id.hex()}+")


def test_a_signed_checkpoint_verifies_and_a_changed_one_does_not() -> None:
    signer = notes.generate("txng.example/log")
    body = notes.checkpoint_body("txng.example/ledger", 5, bytes(range(32)))
    assert body == "txng.example/ledger\n5\n" + base64.b64encode(bytes(range(32))).decode() + "\n"
    text = notes.sign_note(body, [signer])
    assert text.startswith(body + "\n\u2014 txng.example/log ")
    got_body, good, unknown = notes.verify_note(text, [signer.verifier])
    assert got_body == body
    assert len(good) == 1
    assert not unknown
    forged = text.replace("\n5\n", "\n6\n")
    with pytest.raises(notes.NoteError):
        notes.verify_note(forged, [signer.verifier])


def test_cosignature_v1_signs_time_and_body_with_a_type_4_key() -> None:
    witness = notes.generate("health.example/witness", alg=notes.ALG_COSIGNATURE_V1)
    body = notes.checkpoint_body("o", 1, bytes(32))
    line = notes.cosignature_line(witness, body, 1_700_000_000)
    sig = notes.parse_signature_line(line)
    assert (
        sig.key_id
        == hashlib.sha256(b"health.example/witness\n\x04" + witness.verifier.public).digest()[:4]
    )
    verified = notes.verify_signature(body, sig, witness.verifier)
    assert verified.timestamp == 1_700_000_000
    other = notes.checkpoint_body("o", 2, bytes(32))
    with pytest.raises(notes.NoteError):
        notes.verify_signature(other, sig, witness.verifier)
    with pytest.raises(notes.NoteError):
        notes.cosignature_line(notes.generate("plain"), body, 1)


def test_old_checkpoints_stay_verifiable_after_a_key_rotation() -> None:
    old, new = notes.generate("log.example"), notes.generate("log.example")
    body = notes.checkpoint_body("o", 3, bytes(32))
    old_note = notes.sign_note(body, [old])
    # Verifiers list the new key first and keep the old one.
    _, good, _ = notes.verify_note(old_note, [new.verifier, old.verifier])
    assert [g.verifier for g in good] == [old.verifier]
    _, good, unknown = notes.verify_note(old_note, [new.verifier])
    assert good == []
    assert len(unknown) == 1


def test_malformed_keys_and_notes_are_refused() -> None:
    signer = notes.generate("n")
    with pytest.raises(notes.NoteError):
        notes.parse_verifier(signer.verifier.vkey.replace("+", "+0", 1))
    with pytest.raises(notes.NoteError):
        notes.split_note("no blank line\n")
    with pytest.raises(notes.NoteError):
        notes.generate("has space")
