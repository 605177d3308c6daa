"""All SQL of the diary. Entries are EPCIS events captured with ``source="diary"``; every read is
limited to one organisation, which the service takes from the caller."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from txng.models import CaptureJob, EpcisEvent, EventIdent, Organisation, Product, StoredFile
from txng.models import epcis as m

SOURCE = "diary"
_LOT_LIKE = "https://id.gs1.org/01/%/10/%"  # canonical Digital Links of lots
PartnerRow = tuple[int, str, str | None, str]  # id, name, GLN, tax code


def partners(
    session: Session, *, exclude: int, limit: int
) -> list[tuple[int, str, str | None, str]]:
    """(id, name, GLN, tax code) of the active organisations other than ``exclude``."""
    stmt = (
        select(Organisation.id, Organisation.name, Organisation.gln, Organisation.tax_code)
        .where(Organisation.id != exclude, Organisation.status == "active")
        .order_by(Organisation.name, Organisation.id)
        .limit(limit)
    )
    return [(id_, name, gln, tax) for id_, name, gln, tax in session.execute(stmt)]


def lot_idents(session: Session, organisation_id: int, *, limit: int) -> list[str]:
    """The lots named in the quantities and outputs of the organisation's standing events,
    most recently used first."""
    latest = func.max(EpcisEvent.event_time)
    stmt = (
        select(EventIdent.ident, latest)
        .join(EpcisEvent, EpcisEvent.id == EventIdent.event_pk)
        .where(
            EpcisEvent.organisation_id == organisation_id,
            EpcisEvent.error_declared.is_(False),
            EventIdent.role.in_([m.ROLE_QUANTITY, m.ROLE_OUTPUT_QUANTITY]),
            EventIdent.ident.like(_LOT_LIKE),
        )
        .group_by(EventIdent.ident)
        .order_by(latest.desc(), EventIdent.ident)
        .limit(limit)
    )
    return [ident for ident, _ in session.execute(stmt)]


def product_names(session: Session, gtins: Iterable[str]) -> dict[str, str]:
    """Registry names of GTIN-14s (products of any organisation: a supplier's, for example)."""
    wanted = sorted(set(gtins))
    if not wanted:
        return {}
    stmt = select(Product.gtin, Product.name_vi).where(Product.gtin.in_(wanted))
    return {gtin: name for gtin, name in session.execute(stmt)}


def standing_bodies(
    session: Session, organisation_id: int, *, biz_steps: Sequence[str], since: datetime
) -> list[dict[str, Any]]:
    """The captured events (not declared wrong) with these business steps since ``since``."""
    stmt = select(EpcisEvent.body).where(
        EpcisEvent.organisation_id == organisation_id,
        EpcisEvent.error_declared.is_(False),
        EpcisEvent.biz_step.in_(list(biz_steps)),
        EpcisEvent.event_time >= since,
    )
    return [dict(body) for body in session.scalars(stmt)]


def event_pk(session: Session, organisation_id: int, event_id: str) -> int | None:
    stmt = select(EpcisEvent.id).where(
        EpcisEvent.event_id == event_id, EpcisEvent.organisation_id == organisation_id
    )
    return session.scalar(stmt)


def event_by_id(session: Session, organisation_id: int, event_id: str) -> EpcisEvent | None:
    stmt = select(EpcisEvent).where(
        EpcisEvent.event_id == event_id, EpcisEvent.organisation_id == organisation_id
    )
    return session.scalars(stmt).first()


def event_pks(session: Session, organisation_id: int, event_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(event_ids))
    if not wanted:
        return {}
    stmt = select(EpcisEvent.event_id, EpcisEvent.id).where(
        EpcisEvent.event_id.in_(wanted), EpcisEvent.organisation_id == organisation_id
    )
    return {event_id: pk for event_id, pk in session.execute(stmt)}


def diary_event(session: Session, organisation_id: int, pk: int) -> EpcisEvent | None:
    stmt = (
        select(EpcisEvent)
        .join(CaptureJob, CaptureJob.id == EpcisEvent.capture_job_id)
        .where(
            EpcisEvent.id == pk,
            EpcisEvent.organisation_id == organisation_id,
            CaptureJob.source == SOURCE,
        )
    )
    return session.scalars(stmt).first()


def diary_events(session: Session, organisation_id: int, *, limit: int) -> list[EpcisEvent]:
    """The organisation's diary entries, the latest event time first."""
    stmt = (
        select(EpcisEvent)
        .join(CaptureJob, CaptureJob.id == EpcisEvent.capture_job_id)
        .where(EpcisEvent.organisation_id == organisation_id, CaptureJob.source == SOURCE)
        .order_by(EpcisEvent.event_time.desc(), EpcisEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def stored_file(session: Session, file_id: int) -> StoredFile | None:
    return session.get(StoredFile, file_id)


def add(session: Session, obj: object) -> None:
    session.add(obj)
