from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.models import AuditEntry


def add(session: Session, entry: AuditEntry) -> None:
    session.add(entry)


def for_entity(session: Session, entity_type: str, entity_id: str) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))
