"""The ledger's services: append (drain), proofs, checkpoints, cosignatures, seals, audit.

Appends are serialised by the lock on the single ``ledger_state`` row, and each checks that the
stored leaves match the state's tree size before it adds any, so concurrent drainers can neither
fork the log nor seal a record twice (``ledger_leaf.outbox_id`` is unique besides).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from txng.db import session_scope
from txng.ledger import merkle, notes, records, repository
from txng.ledger.canonical import canonicalize, parse
from txng.ledger.exceptions import (
    BadCosignature,
    BadProofRequest,
    LogCorrupt,
    NoCheckpoint,
    RecordNotSealed,
)
from txng.ledger.keys import Keyring
from txng.models import LedgerCheckpoint, LedgerCosignature, LedgerLeaf
from txng.models.base import utcnow

log = logging.getLogger(__name__)
DRAIN_BATCH = 500


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# appending -------------------------------------------------------------------------------


def append_pending(session: Session, *, limit: int = DRAIN_BATCH) -> int:
    """Seal up to ``limit`` queued records in this transaction; the number sealed."""
    repository.ensure_state(session)
    state = repository.lock_state(session)
    size = int(state.tree_size)
    if repository.leaf_count(session) != size:
        raise LogCorrupt()
    rows = repository.pending(session, limit)
    if not rows:
        return 0
    peaks_wanted = merkle.peak_nodes(size)
    stored = repository.nodes(session, peaks_wanted)
    try:
        tree = merkle.CompactRange(size, [stored[n] for n in peaks_wanted])
    except KeyError as exc:
        raise LogCorrupt() from exc
    leaves: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    now = utcnow()
    for row in rows:
        record = canonicalize(row.payload)
        leaf = merkle.leaf_hash(record)
        index = tree.size
        for (level, idx), digest in tree.append(leaf):
            if level:
                nodes.append({"level": level, "idx": idx, "hash": digest})
        leaves.append(
            {
                "leaf_index": index,
                "kind": row.kind,
                "ref": row.ref,
                "leaf_hash": leaf,
                "record": record,
                "outbox_id": row.id,
                "sealed_at": now,
            }
        )
    repository.insert_leaves(session, leaves)
    repository.insert_nodes(session, nodes)
    repository.mark_appended(
        session, [(r.id, leaf["leaf_index"]) for r, leaf in zip(rows, leaves, strict=True)]
    )
    state.tree_size = tree.size
    state.root_hash = tree.root()
    state.updated_at = now
    session.flush()
    return len(rows)


def drain(factory: sessionmaker[Session], *, batch: int = DRAIN_BATCH, retries: int = 20) -> int:
    """Seal everything queued, one committed batch at a time; safe to run from many processes."""
    total = 0
    failures = 0
    while True:
        try:
            with session_scope(factory) as session:
                done = append_pending(session, limit=batch)
        except OperationalError:
            # SQLite's "database is locked" after its busy timeout: another drainer is busy.
            failures += 1
            if failures > retries:
                raise
            time.sleep(0.05 * failures)
            continue
        total += done
        if done < batch:
            return total


# tree heads and proofs -------------------------------------------------------------------


def tree_head(session: Session) -> tuple[int, bytes]:
    state = repository.state(session)
    if state is None:
        return 0, merkle.EMPTY_ROOT
    return int(state.tree_size), bytes(state.root_hash)


def _fetch(session: Session) -> Callable[[set[merkle.Node]], dict[merkle.Node, bytes]]:
    def fetch(wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
        found = repository.nodes(session, wanted)
        if len(found) != len(wanted):
            raise LogCorrupt()
        return found

    return fetch


def _check_size(session: Session, size: int) -> None:
    current, _ = tree_head(session)
    if size > current:
        raise BadProofRequest(params={"size": size, "tree_size": current})


def root_at(session: Session, size: int) -> bytes:
    """The root of the tree's first ``size`` leaves (an earlier tree head)."""
    _check_size(session, size)
    wanted = merkle.peak_nodes(size)
    found = _fetch(session)(set(wanted))
    return merkle.fold([found[n] for n in wanted])


def inclusion_proof(session: Session, *, leaf_index: int, tree_size: int) -> list[bytes]:
    _check_size(session, tree_size)
    try:
        ranges = merkle.inclusion_ranges(leaf_index, tree_size)
    except merkle.ProofError as exc:
        raise BadProofRequest() from exc
    return merkle.build_proof(ranges, _fetch(session))


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    _check_size(session, second)
    try:
        ranges = merkle.consistency_ranges(first, second)
    except merkle.ProofError as exc:
        raise BadProofRequest() from exc
    return merkle.build_proof(ranges, _fetch(session))


def find_leaf(
    session: Session, *, kind: str | None, ref: str | None, leaf_index: int | None
) -> LedgerLeaf:
    leaf = None
    if "\x00" in (kind or "") + (ref or ""):
        raise RecordNotSealed()  # PostgreSQL text cannot hold NUL: nothing sealed has it
    if leaf_index is not None:
        leaf = repository.leaf(session, leaf_index)
    elif kind and ref:
        leaf = repository.latest_leaf(session, kind, ref)
    if leaf is None:
        raise RecordNotSealed()
    return leaf


# checkpoints and cosignatures ------------------------------------------------------------


def sign_checkpoint(session: Session, *, keyring: Keyring) -> LedgerCheckpoint:
    """Sign the current tree head (or return the newest checkpoint when nothing changed)."""
    size, root = tree_head(session)
    latest = repository.latest_checkpoint(session)
    if (
        latest is not None
        and latest.tree_size == size
        and bytes(latest.root_hash) == root
        and latest.key_name == keyring.signer.name
    ):
        return latest
    body = notes.checkpoint_body(keyring.origin, size, root)
    checkpoint = LedgerCheckpoint(
        tree_size=size,
        root_hash=root,
        note=notes.sign_note(body, [keyring.signer]),
        key_name=keyring.signer.name,
    )
    repository.add(session, checkpoint)
    session.flush()
    return checkpoint


def add_cosignature(
    session: Session, *, keyring: Keyring, body: str, line: str
) -> LedgerCheckpoint:
    """Record a witness's cosignature of one of our checkpoints, once checked."""
    try:
        cp = notes.parse_checkpoint(body)
        sig = notes.parse_signature_line(line)
    except notes.NoteError as exc:
        raise BadCosignature() from exc
    checkpoint = repository.checkpoint_for(session, cp.size, cp.root)
    if checkpoint is None or cp.origin != keyring.origin:
        raise NoCheckpoint()
    match = [v for v in keyring.witness_verifiers if v.name == sig.name and v.key_id == sig.key_id]
    if not match:
        raise BadCosignature()
    try:
        verified = notes.verify_signature(body, sig, match[0])
    except notes.NoteError as exc:
        raise BadCosignature() from exc
    existing = repository.cosignature(session, checkpoint.id, sig.name)
    if existing is None:
        repository.add(
            session,
            LedgerCosignature(
                checkpoint_id=checkpoint.id,
                witness=sig.name,
                timestamp=verified.timestamp or 0,
                line=sig.line,
            ),
        )
        session.flush()
    return checkpoint


@dataclass(frozen=True)
class CheckpointView:
    checkpoint: LedgerCheckpoint
    cosignatures: list[LedgerCosignature]
    quorum: int

    @property
    def note(self) -> str:
        return self.checkpoint.note + "".join(c.line for c in self.cosignatures)

    @property
    def final(self) -> bool:
        return len(self.cosignatures) >= self.quorum

    def as_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.checkpoint.tree_size,
            "root_hash": b64(bytes(self.checkpoint.root_hash)),
            "note": self.note,
            "signed_at": self.checkpoint.created_at.isoformat(),
            "cosignatures": [
                {"witness": c.witness, "timestamp": c.timestamp, "line": c.line}
                for c in self.cosignatures
            ],
            "quorum": self.quorum,
            "final": self.final,
        }


def view(session: Session, checkpoint: LedgerCheckpoint, *, keyring: Keyring) -> CheckpointView:
    cosigs = repository.cosignatures(session, checkpoint.id)
    known = {v.name for v in keyring.witness_verifiers}
    return CheckpointView(checkpoint, [c for c in cosigs if c.witness in known], keyring.quorum)


def latest_view(session: Session, *, keyring: Keyring) -> CheckpointView:
    checkpoint = repository.latest_checkpoint(session)
    if checkpoint is None:
        raise NoCheckpoint()
    return view(session, checkpoint, keyring=keyring)


# seals, bundles, audit -------------------------------------------------------------------


def rebuild(session: Session, leaf: LedgerLeaf) -> bytes | None:
    """The leaf's record rebuilt from today's rows (None: cannot be rebuilt, e.g. deleted)."""
    rebuilder = records.rebuilder_for(leaf.kind)
    if rebuilder is None:
        return None
    try:
        stored = parse(bytes(leaf.record))
    except ValueError:
        return None
    fresh = rebuilder(session, leaf.kind, leaf.ref, stored)
    return canonicalize(fresh) if fresh is not None else None


def record_matches(session: Session, leaf: LedgerLeaf) -> bool:
    record = bytes(leaf.record)
    return merkle.leaf_hash(record) == bytes(leaf.leaf_hash) and rebuild(session, leaf) == record


def bundle(session: Session, *, leaf: LedgerLeaf, keyring: Keyring) -> dict[str, Any]:
    """Everything needed to check one record offline: record, proof, checkpoint, keys."""
    checkpoint = repository.checkpoint_covering(session, leaf.leaf_index)
    if checkpoint is None:
        raise NoCheckpoint()
    cv = view(session, checkpoint, keyring=keyring)
    proof = inclusion_proof(session, leaf_index=leaf.leaf_index, tree_size=checkpoint.tree_size)
    return {
        "format": "txng-ledger-bundle/v1",
        "kind": leaf.kind,
        "ref": leaf.ref,
        "record": bytes(leaf.record).decode("utf-8"),
        "leaf_index": leaf.leaf_index,
        "sealed_at": leaf.sealed_at.isoformat(),
        "tree_size": checkpoint.tree_size,
        "inclusion_proof": [b64(p) for p in proof],
        "checkpoint": cv.note,
        "log_keys": keyring.log_vkeys,
        "witness_keys": keyring.witness_vkeys,
        "quorum": keyring.quorum,
    }


_DEFAULT_KEYRING: dict[int, Keyring] = {}


def _default_keyring() -> Keyring:
    """The keyring of the process's settings, read from its files once."""
    from txng.config import get_settings
    from txng.ledger import keys

    settings = get_settings()
    ring = _DEFAULT_KEYRING.get(id(settings))
    if ring is None:
        _DEFAULT_KEYRING.clear()
        ring = _DEFAULT_KEYRING[id(settings)] = keys.load(settings)
    return ring


def seal_context(
    session: Session, *, kind: str, ref: str, keyring: Keyring | None = None
) -> dict[str, Any] | None:
    """What the consumer page shows about a record's seal; None when it is not sealed."""
    leaf = repository.latest_leaf(session, kind, ref)
    if leaf is None:
        return None
    return seal_of(session, leaf=leaf, keyring=keyring)


def seal_of(
    session: Session, *, leaf: LedgerLeaf, keyring: Keyring | None = None
) -> dict[str, Any]:
    """The seal of one leaf: its proof to the newest checkpoint, checked here in Python."""
    kind, ref = leaf.kind, leaf.ref
    if keyring is None:
        keyring = _default_keyring()
    matches = record_matches(session, leaf)
    context: dict[str, Any] = {
        "kind": kind,
        "ref": ref,
        "leaf_index": leaf.leaf_index,
        "leaf_hash": bytes(leaf.leaf_hash).hex(),
        "record": bytes(leaf.record).decode("utf-8"),
        "sealed_at": leaf.sealed_at,
        "record_matches": matches,
        "checkpointed": False,
        "verified": False,
        "cosignatures": 0,
        "quorum": keyring.quorum,
        "final": False,
        "log_keys": keyring.log_vkeys,
        "witness_keys": keyring.witness_vkeys,
    }
    try:
        data = bundle(session, leaf=leaf, keyring=keyring)
    except NoCheckpoint:
        return context
    from txng.ledger import verify

    report = verify.verify_bundle(data)
    context.update(
        checkpointed=True,
        tree_size=data["tree_size"],
        root=report.root_b64,
        proof=data["inclusion_proof"],
        note=data["checkpoint"],
        cosignatures=report.cosignatures,
        witnesses=report.witnesses,
        final=report.final,
        verified=matches and report.ok,
        bundle=data,
    )
    return context


@dataclass(frozen=True)
class Mismatch:
    leaf_index: int
    kind: str
    ref: str
    problem: str  # "changed" | "missing" | "leaf_hash" | "tree" | "checkpoint"


def audit(session: Session, *, progress: Callable[[int], None] | None = None) -> list[Mismatch]:
    """Recompute every leaf from today's database and the tree from the leaves."""
    problems: list[Mismatch] = []
    checkpoints: dict[int, list[bytes]] = {}
    for cp in repository.all_checkpoints(session):
        checkpoints.setdefault(cp.tree_size, []).append(bytes(cp.root_hash))
    size, root = tree_head(session)
    tree = merkle.CompactRange(0, [])
    for leaf in repository.iter_leaves(session):
        record = bytes(leaf.record)
        if leaf.leaf_index != tree.size:
            problems.append(Mismatch(tree.size, "", "", "tree"))
            break
        if merkle.leaf_hash(record) != bytes(leaf.leaf_hash):
            problems.append(Mismatch(leaf.leaf_index, leaf.kind, leaf.ref, "leaf_hash"))
        elif records.rebuilder_for(leaf.kind) is not None:
            fresh = rebuild(session, leaf)
            if fresh is None:
                problems.append(Mismatch(leaf.leaf_index, leaf.kind, leaf.ref, "missing"))
            elif fresh != record:
                problems.append(Mismatch(leaf.leaf_index, leaf.kind, leaf.ref, "changed"))
        tree.append(bytes(leaf.leaf_hash))
        for cp_root in checkpoints.get(tree.size, []):
            if cp_root != tree.root():
                problems.append(Mismatch(tree.size - 1, "", "", "checkpoint"))
        if progress is not None:
            progress(tree.size)
    if tree.size != size or tree.root() != root:
        problems.append(Mismatch(size, "", "", "tree"))
    return problems


def leaves_for(session: Session, indexes: Sequence[int]) -> list[LedgerLeaf]:
    return [leaf for i in indexes if (leaf := repository.leaf(session, i)) is not None]
