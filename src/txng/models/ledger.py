"""The tamper-evident ledger (C9): an RFC 9162 Merkle log of every published record.

Rows are append-only. ``ledger_leaf`` keeps the canonical bytes each leaf hashes, so that anyone
can recompute it; ``ledger_node`` keeps the hash of every complete subtree above the leaves, so a
proof is a handful of look-ups at any size; ``ledger_state`` is the single row that serialises
appends (locked by each drain).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, JSONType, UTCDateTime, utcnow


class LedgerOutbox(Base):
    """A record to seal, written in the transaction that published it; drained after commit."""

    __tablename__ = "ledger_outbox"
    __table_args__ = (Index("ix_ledger_outbox_pending", "leaf_index", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(600))
    # SHA-256 of kind, ref and the canonical record: the same record is never sealed twice.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger)
    appended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerLeaf(Base):
    __tablename__ = "ledger_leaf"
    __table_args__ = (Index("ix_ledger_leaf_kind_ref", "kind", "ref", "leaf_index"),)

    leaf_index: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(600))
    # SHA-256(0x00 || record): the RFC 9162 leaf hash.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The RFC 8785 canonical JSON of the record, exactly the bytes hashed.
    record: Mapped[bytes] = mapped_column(LargeBinary)
    outbox_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerNode(Base):
    """The hash of the complete subtree over leaves [idx·2^level, (idx+1)·2^level), level ≥ 1."""

    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerState(Base):
    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerCheckpoint(Base):
    """A signed note (c2sp.org/tlog-checkpoint) over one tree size and root."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The whole signed note: body, blank line, the log's signature line.
    note: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerCosignature(Base):
    """A witness's cosignature/v1 line over one checkpoint, checked against its known key."""

    __tablename__ = "ledger_cosignature"
    __table_args__ = (
        UniqueConstraint("checkpoint_id", "witness", name="uq_ledger_cosignature_witness"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_checkpoint.id", ondelete="CASCADE"), index=True
    )
    witness: Mapped[str] = mapped_column(String(200))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
