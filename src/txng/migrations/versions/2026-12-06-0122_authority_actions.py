"""authority_actions

Revision ID: f6b2c8d35e05
Revises: e5a1b7c24d04
Create Date: 2026-12-06 01:22:00
"""

from collections.abc import Sequence

revision: str = "f6b2c8d35e05"
down_revision: str | None = "e5a1b7c24d04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
