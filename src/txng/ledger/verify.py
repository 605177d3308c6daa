"""Offline verification of an exported bundle: no database, no network (``txng verify``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from txng.ledger import merkle, notes
from txng.ledger.canonical import NotCanonicalisable, canonicalize, parse


@dataclass
class Report:
    ok: bool = False
    final: bool = False
    leaf_index: int = -1
    tree_size: int = 0
    root_b64: str = ""
    log_key: str = ""
    cosignatures: int = 0
    witnesses: list[str] = field(default_factory=list)
    quorum: int = 0
    errors: list[str] = field(default_factory=list)


def verify_bundle(
    bundle: Mapping[str, Any],
    *,
    trusted_log_keys: Sequence[str] | None = None,
    trusted_witness_keys: Sequence[str] | None = None,
) -> Report:
    """Check a bundle: record → leaf → inclusion proof → signed checkpoint → cosignatures.

    The keys in the bundle are used unless trusted ones are given (pin them in real use: a
    bundle could carry keys of its own forger's making)."""
    report = Report()
    try:
        _verify(bundle, report, trusted_log_keys, trusted_witness_keys)
    except (KeyError, TypeError, ValueError) as exc:
        report.errors.append(f"malformed bundle: {exc}")
    report.ok = not report.errors
    return report


def _verify(
    bundle: Mapping[str, Any],
    report: Report,
    trusted_log_keys: Sequence[str] | None,
    trusted_witness_keys: Sequence[str] | None,
) -> None:
    record = str(bundle["record"]).encode("utf-8")
    try:
        if canonicalize(parse(record)) != record:
            report.errors.append("the record is not in canonical form (RFC 8785)")
    except (NotCanonicalisable, ValueError):
        report.errors.append("the record is not JSON")
    report.leaf_index = int(bundle["leaf_index"])
    report.tree_size = int(bundle["tree_size"])
    report.quorum = int(bundle.get("quorum", 1))
    log_keys = [notes.parse_verifier(k) for k in (trusted_log_keys or bundle["log_keys"])]
    witness_keys = [
        notes.parse_verifier(k) for k in (trusted_witness_keys or bundle.get("witness_keys", []))
    ]
    try:
        body, good, _unknown = notes.verify_note(str(bundle["checkpoint"]), log_keys + witness_keys)
    except notes.NoteError as exc:
        report.errors.append(f"checkpoint signature: {exc}")
        return
    signers = [g for g in good if g.verifier in log_keys]
    if not signers:
        report.errors.append("the checkpoint is not signed by a known log key")
        return
    report.log_key = signers[0].verifier.name
    report.witnesses = sorted({g.verifier.name for g in good if g.verifier in witness_keys})
    report.cosignatures = len(report.witnesses)
    report.final = report.cosignatures >= report.quorum
    checkpoint = notes.parse_checkpoint(body)
    report.root_b64 = base64.b64encode(checkpoint.root).decode("ascii")
    if checkpoint.size != report.tree_size:
        report.errors.append("the checkpoint is for another tree size")
        return
    proof = [base64.b64decode(p, validate=True) for p in bundle["inclusion_proof"]]
    try:
        merkle.verify_inclusion(
            report.leaf_index, report.tree_size, merkle.leaf_hash(record), proof, checkpoint.root
        )
    except merkle.ProofError as exc:
        report.errors.append(f"inclusion proof: {exc}")
