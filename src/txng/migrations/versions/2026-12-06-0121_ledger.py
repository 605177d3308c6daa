"""ledger

Revision ID: e5a1b7c24d04
Revises: d4f0a6b13c03
Create Date: 2026-12-06 01:21:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5a1b7c24d04"
down_revision: str | None = "d4f0a6b13c03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=600), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_ledger_outbox_dedupe_key")),
    )
    op.create_index("ix_ledger_outbox_pending", "ledger_outbox", ["leaf_index", "id"])
    op.create_table(
        "ledger_leaf",
        sa.Column("leaf_index", _ID, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=600), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_ledger_leaf")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_ledger_leaf_outbox_id")),
    )
    op.create_index("ix_ledger_leaf_kind_ref", "ledger_leaf", ["kind", "ref", "leaf_index"])
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_node")),
    )
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoint")),
    )
    op.create_index(op.f("ix_ledger_checkpoint_tree_size"), "ledger_checkpoint", ["tree_size"])
    op.create_table(
        "ledger_cosignature",
        sa.Column("id", _ID, nullable=False),
        sa.Column("checkpoint_id", _ID, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["ledger_checkpoint.id"],
            name=op.f("fk_ledger_cosignature_checkpoint_id_ledger_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_cosignature")),
        sa.UniqueConstraint("checkpoint_id", "witness", name="uq_ledger_cosignature_witness"),
    )
    op.create_index(
        op.f("ix_ledger_cosignature_checkpoint_id"), "ledger_cosignature", ["checkpoint_id"]
    )


def downgrade() -> None:
    op.drop_table("ledger_cosignature")
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_state")
    op.drop_table("ledger_node")
    op.drop_table("ledger_leaf")
    op.drop_table("ledger_outbox")
