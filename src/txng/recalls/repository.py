"""Queries on recalls; the only place that knows how a recall's scope is stored."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.models.stamps import Recall, RecallTarget


def recalls_affecting(session: Session, idents: Collection[str]) -> list[Recall]:
    """Active recalls whose scope holds any of ``idents`` (canonical Digital Link URIs, as made by
    ``txng.epcis.identifiers.canonical_id`` / ``sgtin_dl`` / ``lgtin_dl``), newest first."""
    if not idents:
        return []
    stmt = (
        select(Recall)
        .where(
            Recall.state == "active",
            Recall.id.in_(select(RecallTarget.recall_id).where(RecallTarget.ident.in_(idents))),
        )
        .order_by(Recall.issued_at.desc(), Recall.id.desc())
    )
    return list(session.scalars(stmt))
