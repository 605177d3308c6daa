"""authority_actions: guidance documents (suspensions and recalls use existing columns/tables)

Revision ID: f6b2c8d35e05
Revises: e5a1b7c24d04
Create Date: 2026-12-06 01:22:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6b2c8d35e05"
down_revision: str | None = "e5a1b7c24d04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "guidance_document",
        sa.Column("id", ID, nullable=False),
        sa.Column("title_vi", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description_vi", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_id", ID, nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_file.id"],
            name=op.f("fk_guidance_document_file_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_guidance_document_created_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_document")),
    )
    with op.batch_alter_table("guidance_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guidance_document_category"), ["category"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_guidance_document_published"), ["published"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("guidance_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidance_document_published"))
        batch_op.drop_index(batch_op.f("ix_guidance_document_category"))
    op.drop_table("guidance_document")
