"""All SQL of scans and problem reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    Insert,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from txng.db import read_rows
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


_VISIT: Final = _visit_statement()


def insert_visits(session: Session, visits: list[dict[str, object]]) -> None:
    """One INSERT … SELECT (executed for each visit): a reload or a language switch by the same
    visitor (same stamp, same IP hash, since ``since``) is not a new scan.

    ``visits``: dicts with ``stamp_id``, ``ip_hash``, ``at`` and ``since``."""
    if visits:  # Core executemany: the ORM would take a list of dicts for a bulk insert
        session.connection().execute(_VISIT, visits)


class HistoryRow(NamedTuple):
    scanned_at: datetime
    commune_code: str | None
    latitude: float | None
    longitude: float | None
    first: int  # 1: the first scan by others
    others: int  # scans by others (the same on every row)
    nth_located: int  # 1, 2, … from the newest located scan (rows with coordinates)


def _history_statement() -> Select[Any]:
    """The statement of ``scan_history``, built once with bind parameters (see there)."""
    since = bindparam("since", type_=StampScan.scanned_at.type)
    mine = and_(StampScan.ip_hash == bindparam("ip_hash"), StampScan.scanned_at >= since)
    is_other = case((not_(mine), 1), else_=0)
    has_place = StampScan.latitude.is_not(None)
    ranked = (
        select(
            StampScan.scanned_at,
            StampScan.commune_code,
            StampScan.latitude,
            StampScan.longitude,
            is_other.label("is_other"),
            func.sum(is_other).over().label("others"),
            func.row_number()
            .over(partition_by=is_other, order_by=(StampScan.scanned_at, StampScan.id))
            .label("nth_other"),
            func.row_number()
            .over(
                partition_by=case((has_place, 1), else_=0),
                order_by=(StampScan.scanned_at.desc(), StampScan.id.desc()),
            )
            .label("nth_located"),
        )
        .where(StampScan.stamp_id == bindparam("stamp_id"), or_(not_(mine), has_place))
        .subquery()
    )
    first = and_(ranked.c.is_other == 1, ranked.c.nth_other == 1)
    located = and_(ranked.c.latitude.is_not(None), ranked.c.nth_located <= bindparam("located"))
    return select(
        ranked.c.scanned_at,
        ranked.c.commune_code,
        ranked.c.latitude,
        ranked.c.longitude,
        case((first, 1), else_=0),
        ranked.c.others,
        ranked.c.nth_located,
    ).where(or_(first, located))


_HISTORY: Final = _history_statement()


def scan_history(
    session: Session, stamp_id: int, ip_hash: str, since: datetime, located: int = LOCATED_SCANS
) -> list[HistoryRow]:
    """Earlier scans for the verdict in one statement (the page is opened very often).

    Rows: the first scan by others (any scan of the stamp but this visitor's current visit:
    their reloads, a language switch) and the latest ``located`` scans with coordinates (a row
    may be both). No row, or ``others`` = 0: nobody else scanned the stamp."""
    params = {"stamp_id": stamp_id, "ip_hash": ip_hash, "since": since, "located": located}
    return [HistoryRow(*row) for row in read_rows(session, _HISTORY, params)]


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
