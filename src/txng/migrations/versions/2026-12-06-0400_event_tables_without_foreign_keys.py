"""event_tables_without_foreign_keys: the EPCIS event tables keep their references without
FOREIGN KEY constraints, and the captured event body is stored as json text on PostgreSQL.

Capture writes an event, its identifier rows and its link rows in one transaction from rows it
has just numbered itself, and events are never deleted (an error is declared, not erased), so
the constraints only checked what capture already guarantees — at one trigger call per row,
which cost PostgreSQL about a third of its COPY rate (docs/adr/0014). The body is returned as
captured and never searched by jsonb operators; json skips the conversion to jsonb on write.

Revision ID: a7c3d9e46f06
Revises: f6b2c8d35e05
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a7c3d9e46f06"
down_revision: str | None = "f6b2c8d35e05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = (
    ("epcis_event", "fk_epcis_event_capture_job_id_epcis_capture_job"),
    ("epcis_event", "fk_epcis_event_organisation_id_organisation"),
    ("epcis_event", "fk_epcis_event_recorded_by_user_id_user_account"),
    ("epcis_event_ident", "fk_epcis_event_ident_event_pk_epcis_event"),
    ("epcis_event_link", "fk_epcis_event_link_event_pk_epcis_event"),
)


def upgrade() -> None:
    # The referring tables first: on SQLite a batch operation rebuilds a table and drops the old
    # one, and dropping epcis_event while its index tables still refer to it ON DELETE CASCADE
    # would empty them.
    for table in ("epcis_event_ident", "epcis_event_link", "epcis_event"):
        with op.batch_alter_table(table) as batch:
            for owner, name in _FOREIGN_KEYS:
                if owner == table:
                    batch.drop_constraint(name, type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        for column in ("body", "namespaces"):
            op.alter_column(
                "epcis_event",
                column,
                type_=sa.JSON(),
                existing_type=postgresql.JSONB(),
                postgresql_using=f"{column}::json",
            )


def downgrade() -> None:  # epcis_event first, before anything refers to it again
    if op.get_bind().dialect.name == "postgresql":
        for column in ("body", "namespaces"):
            op.alter_column(
                "epcis_event",
                column,
                type_=postgresql.JSONB(),
                existing_type=sa.JSON(),
                postgresql_using=f"{column}::jsonb",
            )
    with op.batch_alter_table("epcis_event") as batch:
        batch.create_foreign_key(
            "fk_epcis_event_capture_job_id_epcis_capture_job",
            "epcis_capture_job",
            ["capture_job_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_foreign_key(
            "fk_epcis_event_organisation_id_organisation",
            "organisation",
            ["organisation_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_foreign_key(
            "fk_epcis_event_recorded_by_user_id_user_account",
            "user_account",
            ["recorded_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    for table in ("epcis_event_ident", "epcis_event_link"):
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f"fk_{table}_event_pk_epcis_event",
                "epcis_event",
                ["event_pk"],
                ["id"],
                ondelete="CASCADE",
            )
