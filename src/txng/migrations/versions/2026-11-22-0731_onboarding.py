"""onboarding

Revision ID: c3e9a5f02b02
Revises: b7d2c4e81a01
Create Date: 2026-11-22 07:31:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e9a5f02b02"
down_revision: str | None = "b7d2c4e81a01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registration",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("organisation_id", BIGINT, nullable=False),
        sa.Column("user_id", BIGINT, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_user_id", BIGINT, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_registration_decided_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_registration_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_registration_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_registration_organisation_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_token_hash")),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registration_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_user_id"))
        batch_op.drop_index(batch_op.f("ix_registration_state"))
        batch_op.drop_index(batch_op.f("ix_registration_commune_code"))
    op.drop_table("registration")
