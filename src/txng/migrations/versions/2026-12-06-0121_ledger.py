"""ledger

Revision ID: e5a1b7c24d04
Revises: d4f0a6b13c03
Create Date: 2026-12-06 01:21:00
"""

from collections.abc import Sequence

revision: str = "e5a1b7c24d04"
down_revision: str | None = "d4f0a6b13c03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
