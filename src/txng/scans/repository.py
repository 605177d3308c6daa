"""All SQL of scans and problem reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, and_, bindparam, exists, func, insert, not_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from txng.models import StoredFile
from txng.models.stamps import ProblemReport, StampScan

LOCATED_SCANS = 20  # the travel check looks at this many recent located scans


def insert_scan(
    session: Session,
    *,
    stamp_id: int,
    ip_hash: str,
    at: datetime,
    commune_code: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> None:
    """One INSERT, no ORM identity map: logging must stay cheap."""
    session.execute(
        insert(StampScan).values(
            stamp_id=stamp_id,
            scanned_at=at,
            ip_hash=ip_hash,
            commune_code=commune_code,
            latitude=latitude,
            longitude=longitude,
        )
    )


def _visit_statement() -> Insert:
    """INSERT … SELECT of one scan unless the visitor scanned the stamp since ``:since``."""
    seen = exists().where(
        StampScan.stamp_id == bindparam("stamp_id"),
        StampScan.ip_hash == bindparam("ip_hash"),
        StampScan.scanned_at >= bindparam("since", type_=StampScan.scanned_at.type),
    )
    row = select(
        bindparam("stamp_id", type_=StampScan.stamp_id.type),
        bindparam("at", type_=StampScan.scanned_at.type),
        bindparam("ip_hash", type_=StampScan.ip_hash.type),
    ).where(~seen)
    return insert(StampScan).from_select(
        [StampScan.stamp_id, StampScan.scanned_at, StampScan.ip_hash], row
    )


def insert_visits(session: Session, visits: list[dict[str, object]]) -> None:
    """One INSERT … SELECT (executed for each visit): a reload or a language switch by the same
    visitor (same stamp, same IP hash, since ``since``) is not a new scan.

    ``visits``: dicts with ``stamp_id``, ``ip_hash``, ``at`` and ``since``."""
    if visits:  # Core executemany: the ORM would take a list of dicts for a bulk insert
        session.connection().execute(_visit_statement(), visits)


def _others(stamp_id: int, ip_hash: str, since: datetime) -> ColumnElement[bool]:
    """Scans of the stamp except this visitor's current visit (reloads, language switch)."""
    return and_(
        StampScan.stamp_id == stamp_id,
        not_(and_(StampScan.ip_hash == ip_hash, StampScan.scanned_at >= since)),
    )


def scan_count(session: Session, stamp_id: int, ip_hash: str, since: datetime) -> int:
    stmt = select(func.count()).select_from(StampScan).where(_others(stamp_id, ip_hash, since))
    return int(session.scalar(stmt) or 0)


def first_scan(session: Session, stamp_id: int, ip_hash: str, since: datetime) -> StampScan | None:
    stmt = (
        select(StampScan)
        .where(_others(stamp_id, ip_hash, since))
        .order_by(StampScan.scanned_at, StampScan.id)
        .limit(1)
    )
    return session.scalar(stmt)


def located_scans(session: Session, stamp_id: int, limit: int = LOCATED_SCANS) -> list[StampScan]:
    stmt = (
        select(StampScan)
        .where(StampScan.stamp_id == stamp_id, StampScan.latitude.is_not(None))
        .order_by(StampScan.scanned_at.desc(), StampScan.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def latest_scan_of(
    session: Session, stamp_id: int, ip_hash: str, since: datetime
) -> StampScan | None:
    stmt = (
        select(StampScan)
        .where(
            StampScan.stamp_id == stamp_id,
            StampScan.ip_hash == ip_hash,
            StampScan.scanned_at >= since,
        )
        .order_by(StampScan.scanned_at.desc(), StampScan.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def set_location(
    session: Session,
    scan_id: int,
    commune_code: str | None,
    latitude: float | None,
    longitude: float | None,
) -> None:
    session.execute(
        update(StampScan)
        .where(StampScan.id == scan_id)
        .values(commune_code=commune_code, latitude=latitude, longitude=longitude)
    )


def reports_since(session: Session, ip_hash: str, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(ProblemReport)
        .where(ProblemReport.ip_hash == ip_hash, ProblemReport.created_at >= since)
    )
    return int(session.scalar(stmt) or 0)


def add(session: Session, row: ProblemReport | StoredFile) -> None:
    session.add(row)


def reports(session: Session, *, state: str | None, limit: int, offset: int) -> list[ProblemReport]:
    stmt = select(ProblemReport).order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
    if state:
        stmt = stmt.where(ProblemReport.state == state)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def report(session: Session, report_id: int) -> ProblemReport | None:
    return session.get(ProblemReport, report_id)


def stored_file(session: Session, file_id: int) -> StoredFile | None:
    return session.get(StoredFile, file_id)
