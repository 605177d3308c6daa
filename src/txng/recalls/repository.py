"""Queries on recalls; the only place that knows how a recall's scope is stored."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from txng.models import EventIdent, Product
from txng.models.stamps import Recall, RecallTarget, Stamp

CHUNK = 500


def _active_affecting(*columns: Any) -> Select[Any]:
    """Active recalls whose scope holds any of the ``idents`` parameter, newest first."""
    return (
        select(*columns)
        .where(
            Recall.state == "active",
            Recall.id.in_(
                select(RecallTarget.recall_id).where(
                    RecallTarget.ident.in_(bindparam("idents", expanding=True))
                )
            ),
        )
        .order_by(Recall.issued_at.desc(), Recall.id.desc())
    )


def any_active_naming(*idents: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether an active recall's scope holds any of ``idents`` (for a column of another
    statement: the consumer page reads the notices only when it is true)."""
    return exists(
        select(RecallTarget.id)
        .join(Recall, Recall.id == RecallTarget.recall_id)
        .where(RecallTarget.ident.in_(idents), Recall.state == "active")
    )


# Built once: every consumer page asks (recalls are never cached, a recall shows at once).
_AFFECTING: Final = _active_affecting(Recall)
_NOTICES: Final = _active_affecting(
    Recall.reason, Recall.severity, Recall.instructions_vi, Recall.instructions_en, Recall.issued_at
)


def notices_affecting(
    session: Session, idents: Collection[str]
) -> list[tuple[str, str, str, str, datetime]]:
    """What the consumer page shows of the active recalls affecting ``idents``, newest first:
    reason, severity, instructions (vi, en) and issue time. Plain Core on the session's
    connection: every scan asks, and no recall object is needed."""
    if not idents:
        return []
    rows = session.connection().execute(_NOTICES, {"idents": list(idents)})
    return [tuple(row) for row in rows]


def recalls_affecting(session: Session, idents: Collection[str]) -> list[Recall]:
    """Active recalls whose scope holds any of ``idents`` (canonical Digital Link URIs, as made by
    ``txng.epcis.identifiers.canonical_id`` / ``sgtin_dl`` / ``lgtin_dl``), newest first."""
    if not idents:
        return []
    return list(session.scalars(_AFFECTING, {"idents": list(idents)}))


def add(session: Session, obj: object) -> None:
    session.add(obj)


def add_targets(session: Session, targets: Iterable[RecallTarget]) -> None:
    session.add_all(list(targets))


def recall(session: Session, recall_id: int) -> Recall | None:
    return session.get(Recall, recall_id)


def recalls(session: Session, *, state: str | None = None, limit: int = 500) -> list[Recall]:
    stmt = select(Recall)
    if state is not None:
        stmt = stmt.where(Recall.state == state)
    return list(
        session.scalars(stmt.order_by(Recall.issued_at.desc(), Recall.id.desc()).limit(limit))
    )


def recalls_for_organisation(
    session: Session, organisation_id: int, *, state: str | None = "active"
) -> list[Recall]:
    """Recalls of the organisation's own lots, or whose scope reaches something it holds."""
    held = select(RecallTarget.recall_id).where(RecallTarget.organisation_id == organisation_id)
    stmt = select(Recall).where(or_(Recall.organisation_id == organisation_id, Recall.id.in_(held)))
    if state is not None:
        stmt = stmt.where(Recall.state == state)
    return list(session.scalars(stmt.order_by(Recall.issued_at.desc(), Recall.id.desc())))


def target_counts(session: Session, recall_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Per recall, the number of targets of each kind."""
    if not recall_ids:
        return {}
    stmt = (
        select(RecallTarget.recall_id, RecallTarget.kind, func.count())
        .where(RecallTarget.recall_id.in_(list(recall_ids)))
        .group_by(RecallTarget.recall_id, RecallTarget.kind)
    )
    out: dict[int, dict[str, int]] = {}
    for recall_id, kind, n in session.execute(stmt):
        out.setdefault(int(recall_id), {})[str(kind)] = int(n)
    return out


def targets(session: Session, recall_id: int) -> list[RecallTarget]:
    stmt = select(RecallTarget).where(RecallTarget.recall_id == recall_id)
    return list(session.scalars(stmt.order_by(RecallTarget.kind, RecallTarget.ident)))


def latest_holders(
    session: Session, event_orgs: dict[int, tuple[datetime, int | None]], idents: Collection[str]
) -> dict[str, int]:
    """For each identifier, the organisation of the latest of the given events naming it."""
    best: dict[str, tuple[datetime, int, int]] = {}
    pks = sorted(event_orgs)
    wanted = set(idents)
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        stmt = select(EventIdent.event_pk, EventIdent.ident).where(EventIdent.event_pk.in_(chunk))
        for pk, ident in session.execute(stmt):
            if ident not in wanted:
                continue
            moment, org = event_orgs[pk]
            if org is None:
                continue
            key = (moment, pk, org)
            if ident not in best or key[:2] > best[ident][:2]:
                best[ident] = key
    return {ident: org for ident, (_, _, org) in best.items()}


def stamps_of_lots(session: Session, lots: Collection[tuple[str, str]]) -> list[Stamp]:
    """Every stamp on any of the (GTIN-14, lot number) pairs."""
    found: list[Stamp] = []
    pairs = sorted(set(lots))
    for start in range(0, len(pairs), CHUNK):
        cond = or_(
            *(
                and_(Stamp.gtin == gtin, Stamp.lot == lot)
                for gtin, lot in pairs[start : start + CHUNK]
            )
        )
        found.extend(session.scalars(select(Stamp).where(cond).order_by(Stamp.id)))
    return found


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.scalars(select(Product).where(Product.gtin == gtin)).first()


def products_by_gtins(session: Session, gtins: Collection[str]) -> dict[str, Product]:
    if not gtins:
        return {}
    stmt = select(Product).where(Product.gtin.in_(sorted(set(gtins))))
    return {p.gtin: p for p in session.scalars(stmt)}
