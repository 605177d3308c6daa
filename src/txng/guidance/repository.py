"""All SQL of guidance documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.models import GuidanceDocument, StoredFile


def add(session: Session, obj: object) -> None:
    session.add(obj)


def documents(session: Session, *, published_only: bool) -> list[GuidanceDocument]:
    stmt = select(GuidanceDocument)
    if published_only:
        stmt = stmt.where(GuidanceDocument.published.is_(True))
    order = (GuidanceDocument.category, GuidanceDocument.position, GuidanceDocument.id)
    return list(session.scalars(stmt.order_by(*order)))


def document(session: Session, document_id: int) -> GuidanceDocument | None:
    return session.get(GuidanceDocument, document_id)


def stored_file(session: Session, file_id: int) -> StoredFile | None:
    return session.get(StoredFile, file_id)


def files_of(session: Session, file_ids: list[int]) -> dict[int, StoredFile]:
    if not file_ids:
        return {}
    stmt = select(StoredFile).where(StoredFile.id.in_(sorted(set(file_ids))))
    return {f.id: f for f in session.scalars(stmt)}
