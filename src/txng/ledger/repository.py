"""All SQL of the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, false, func, insert, literal, or_, select, tuple_, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txng.ledger.merkle import EMPTY_ROOT, Node
from txng.models import (
    EpcisEvent,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerLeaf,
    LedgerNode,
    LedgerOutbox,
    LedgerState,
    RecallTarget,
)
from txng.models.base import utcnow

STATE_ID = 1


def add(session: Session, row: Any) -> None:
    session.add(row)


def outbox_key_exists(session: Session, key: str) -> bool:
    found = session.scalar(select(LedgerOutbox.id).where(LedgerOutbox.dedupe_key == key))
    if found is not None:
        return True
    # Rows added in this session but not flushed yet (autoflush is off).
    return any(isinstance(obj, LedgerOutbox) and obj.dedupe_key == key for obj in session.new)


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stmt = select(LedgerOutbox.dedupe_key).where(LedgerOutbox.dedupe_key.in_(chunk))
        found.update(session.scalars(stmt))
    pending = {obj.dedupe_key for obj in session.new if isinstance(obj, LedgerOutbox)}
    return found | (pending & set(keys))


def events_of_job(session: Session, job_id: int) -> list[EpcisEvent]:
    stmt = select(EpcisEvent).where(EpcisEvent.capture_job_id == job_id).order_by(EpcisEvent.id)
    return list(session.scalars(stmt))


def event_by_event_id(session: Session, event_id: str) -> EpcisEvent | None:
    return session.scalar(select(EpcisEvent).where(EpcisEvent.event_id == event_id))


# the log ---------------------------------------------------------------------------------


def ensure_state(session: Session) -> None:
    if session.get(LedgerState, STATE_ID) is not None:
        return
    try:
        with session.begin_nested():
            session.add(LedgerState(id=STATE_ID, tree_size=0, root_hash=EMPTY_ROOT))
    except IntegrityError:
        pass  # another process created it first


def lock_state(session: Session) -> LedgerState:
    """Take the log's single write lock for the rest of the transaction.

    PostgreSQL: ``SELECT … FOR UPDATE`` on the state row. SQLite has no row locks: the first
    statement is a write, which takes the database's write lock at once (as ``BEGIN IMMEDIATE``)
    and keeps every other appender waiting until this transaction ends.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(LedgerState)
            .where(LedgerState.id == STATE_ID)
            .values(tree_size=LedgerState.tree_size)
        )
    state = session.scalar(
        select(LedgerState)
        .where(LedgerState.id == STATE_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if state is None:
        raise LookupError("ledger state row missing")
    return state


def state(session: Session) -> LedgerState | None:
    return session.get(LedgerState, STATE_ID)


def leaf_count(session: Session) -> int:
    top = session.scalar(select(func.max(LedgerLeaf.leaf_index)))
    return 0 if top is None else int(top) + 1


def pending(session: Session, limit: int) -> list[LedgerOutbox]:
    stmt = (
        select(LedgerOutbox)
        .where(LedgerOutbox.leaf_index.is_(None))
        .order_by(LedgerOutbox.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def pending_count(session: Session) -> int:
    stmt = select(func.count()).select_from(LedgerOutbox).where(LedgerOutbox.leaf_index.is_(None))
    return int(session.scalar(stmt) or 0)


def insert_leaves(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(LedgerLeaf), list(rows))


def insert_nodes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(LedgerNode), list(rows))


def mark_appended(session: Session, assigned: Sequence[tuple[int, int]]) -> None:
    """Record each sealed outbox row's leaf (one executemany; the rows are locked by the state
    lock, and ``ledger_leaf.outbox_id`` being unique makes a second sealing impossible anyway)."""
    if not assigned:
        return
    now = utcnow()
    session.execute(
        update(LedgerOutbox),
        [{"id": oid, "leaf_index": index, "appended_at": now} for oid, index in assigned],
    )


def nodes(session: Session, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """Hashes of complete subtrees in one round trip: level 0 from the leaves, higher levels
    from the node table."""
    by_level: dict[int, list[int]] = {}
    for level, idx in wanted:
        by_level.setdefault(level, []).append(idx)
    leaves = by_level.pop(0, [])
    pairs = [(level, idx) for level, idxs in by_level.items() for idx in idxs]
    # Both statements keep one shape whatever the sizes (expanding IN): compiled once, cached.
    leaf_stmt = select(
        literal(0).label("level"), LedgerLeaf.leaf_index, LedgerLeaf.leaf_hash
    ).where(LedgerLeaf.leaf_index.in_(leaves))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite plans a row-value IN as a scan; one IN per level uses the primary key.
        wanted_nodes = or_(
            false(),
            *(
                and_(LedgerNode.level == level, LedgerNode.idx.in_(idxs))
                for level, idxs in by_level.items()
            ),
        )
    else:
        wanted_nodes = tuple_(LedgerNode.level, LedgerNode.idx).in_(pairs)
    node_stmt = select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(wanted_nodes)
    if leaves and pairs:
        rows = session.execute(union_all(leaf_stmt, node_stmt)).all()
    elif leaves:
        rows = session.execute(leaf_stmt).all()
    elif pairs:
        rows = session.execute(node_stmt).all()
    else:
        return {}
    return {(int(lv), int(i)): bytes(h) for lv, i, h in rows}


def leaf(session: Session, leaf_index: int) -> LedgerLeaf | None:
    return session.get(LedgerLeaf, leaf_index)


def latest_leaf(session: Session, kind: str, ref: str) -> LedgerLeaf | None:
    stmt = (
        select(LedgerLeaf)
        .where(LedgerLeaf.kind == kind, LedgerLeaf.ref == ref)
        .order_by(LedgerLeaf.leaf_index.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def iter_leaves(session: Session, chunk: int = 2000) -> Iterator[LedgerLeaf]:
    start = 0
    while True:
        stmt = (
            select(LedgerLeaf)
            .where(LedgerLeaf.leaf_index >= start)
            .order_by(LedgerLeaf.leaf_index)
            .limit(chunk)
        )
        rows = list(session.scalars(stmt))
        if not rows:
            return
        yield from rows
        start = rows[-1].leaf_index + 1
        session.expunge_all()


# checkpoints -----------------------------------------------------------------------------


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    stmt = select(LedgerCheckpoint).order_by(
        LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.id.desc()
    )
    return session.scalar(stmt.limit(1))


def checkpoint_covering(session: Session, leaf_index: int) -> LedgerCheckpoint | None:
    """The newest checkpoint whose tree holds the leaf."""
    stmt = (
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.tree_size > leaf_index)
        .order_by(LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def checkpoint_for(session: Session, size: int, root: bytes) -> LedgerCheckpoint | None:
    stmt = (
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.tree_size == size, LedgerCheckpoint.root_hash == root)
        .order_by(LedgerCheckpoint.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def all_checkpoints(session: Session) -> list[LedgerCheckpoint]:
    return list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)))


def cosignatures(session: Session, checkpoint_id: int) -> list[LedgerCosignature]:
    stmt = (
        select(LedgerCosignature)
        .where(LedgerCosignature.checkpoint_id == checkpoint_id)
        .order_by(LedgerCosignature.witness)
    )
    return list(session.scalars(stmt))


def cosignature(session: Session, checkpoint_id: int, witness: str) -> LedgerCosignature | None:
    stmt = select(LedgerCosignature).where(
        LedgerCosignature.checkpoint_id == checkpoint_id, LedgerCosignature.witness == witness
    )
    return session.scalar(stmt)


def recall_target_counts(session: Session, recall_id: int) -> dict[str, int]:
    """How many identifiers of each kind a recall's scope holds."""
    stmt = (
        select(RecallTarget.kind, func.count())
        .where(RecallTarget.recall_id == recall_id)
        .group_by(RecallTarget.kind)
    )
    return {kind: int(n) for kind, n in session.execute(stmt)}
