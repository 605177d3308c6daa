"""All SQL of stamps: requests, bulk issuance, look-ups by code, lot capacity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, insert, or_, select, update
from sqlalchemy.orm import Session

from txng.models import EpcisEvent, EventIdent, Organisation, Product, Stamp, StampRequest
from txng.models import epcis as m

# Stamps that still stand for goods of their lot (a deactivated one frees its place).
CARRIED_STATUSES = ("active", "lost", "suspended")
# Requests that count against the daily limit.
COUNTED_STATES = ("submitted", "approved", "issuing", "issued", "failed")


def add(session: Session, obj: object) -> None:
    session.add(obj)


def product(session: Session, product_id: int) -> Product | None:
    return session.get(Product, product_id)


def organisation(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def request(session: Session, request_id: int) -> StampRequest | None:
    return session.get(StampRequest, request_id)


def request_for_update(session: Session, request_id: int) -> StampRequest | None:
    stmt = select(StampRequest).where(StampRequest.id == request_id).with_for_update()
    return session.scalars(stmt).first()


def requests_of(
    session: Session, organisation_id: int | None, *, page: int, per_page: int
) -> tuple[list[StampRequest], int]:
    cond: ColumnElement[bool] = (
        StampRequest.organisation_id == organisation_id
        if organisation_id is not None
        else StampRequest.id.is_not(None)
    )
    total = session.scalar(select(func.count()).select_from(StampRequest).where(cond)) or 0
    stmt = (
        select(StampRequest)
        .where(cond)
        .order_by(StampRequest.requested_at.desc(), StampRequest.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(session.scalars(stmt)), total


def requested_since(session: Session, organisation_id: int, since: datetime) -> int:
    stmt = select(func.coalesce(func.sum(StampRequest.quantity), 0)).where(
        StampRequest.organisation_id == organisation_id,
        StampRequest.requested_at >= since,
        StampRequest.state.in_(COUNTED_STATES),
    )
    return int(session.scalar(stmt) or 0)


def requests_in_states(session: Session, states: Sequence[str]) -> list[int]:
    stmt = select(StampRequest.id).where(StampRequest.state.in_(list(states)))
    return list(session.scalars(stmt.order_by(StampRequest.id)))


STAMP_COLUMNS = (
    "request_id",
    "organisation_id",
    "product_id",
    "gtin",
    "serial",
    "short_code",
    "pin",
    "lot",
    "status",
    "issued_at",
)
_COPY_SQL = f"COPY stamp ({', '.join(STAMP_COLUMNS)}) FROM STDIN"


def insert_stamps(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store prepared stamp rows: COPY on PostgreSQL, one executemany INSERT on SQLite, in the
    session's transaction (a unique violation fails the whole call)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        dbapi = connection.connection.driver_connection
        with dbapi.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(tuple(row[c] for c in STAMP_COLUMNS))
        return
    # Core INSERT on the table (not the ORM bulk path): the rows need no identity map.
    connection.execute(insert(cast(Table, Stamp.__table__)), list(rows))


def count_stamps(session: Session, request_id: int) -> int:
    stmt = select(func.count()).select_from(Stamp).where(Stamp.request_id == request_id)
    return int(session.scalar(stmt) or 0)


def stamps_of_request(
    session: Session, request_id: int, *, after_id: int = 0, limit: int = 100
) -> list[Stamp]:
    """A page of a request's stamps in issue order (keyset: ids after ``after_id``)."""
    stmt = (
        select(Stamp)
        .where(Stamp.request_id == request_id, Stamp.id > after_id)
        .order_by(Stamp.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def iter_stamps(session: Session, request_id: int, *, chunk: int = 5000) -> Iterator[Stamp]:
    """Every stamp of a request in issue order, ``chunk`` rows per query (bounded memory)."""
    after = 0
    while True:
        rows = stamps_of_request(session, request_id, after_id=after, limit=chunk)
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        session.expunge_all()


def stamps_by_codes(session: Session, codes: Sequence[str]) -> list[Stamp]:
    """Stamps whose short code or serial is one of ``codes`` (normalised)."""
    found: list[Stamp] = []
    for start in range(0, len(codes), 500):
        chunk = list(codes[start : start + 500])
        stmt = select(Stamp).where(or_(Stamp.short_code.in_(chunk), Stamp.serial.in_(chunk)))
        found.extend(session.scalars(stmt))
    return found


def stamp(session: Session, stamp_id: int) -> Stamp | None:
    return session.get(Stamp, stamp_id)


def stamps_between(session: Session, request_id: int, first_id: int, last_id: int) -> list[Stamp]:
    stmt = (
        select(Stamp)
        .where(Stamp.request_id == request_id, Stamp.id >= first_id, Stamp.id <= last_id)
        .order_by(Stamp.id)
    )
    return list(session.scalars(stmt))


def next_unactivated(session: Session, request_id: int, count: int) -> list[Stamp]:
    stmt = (
        select(Stamp)
        .where(Stamp.request_id == request_id, Stamp.status == "issued")
        .order_by(Stamp.id)
        .limit(count)
    )
    return list(session.scalars(stmt))


def status_counts(session: Session, request_id: int) -> dict[str, int]:
    stmt = (
        select(Stamp.status, func.count())
        .where(Stamp.request_id == request_id)
        .group_by(Stamp.status)
    )
    return {str(status): int(n) for status, n in session.execute(stmt)}


def carried_on_lot(session: Session, gtin: str, lot: str) -> int:
    """Stamps standing for goods of one lot."""
    stmt = select(func.count()).where(
        Stamp.gtin == gtin, Stamp.lot == lot, Stamp.status.in_(CARRIED_STATUSES)
    )
    return int(session.scalar(stmt) or 0)


def declared_lot_quantity(
    session: Session, organisation_id: int, lot_ident: str
) -> tuple[float, str | None] | None:
    """The quantity the owner declared when the lot came into being: the quantities of its
    commissioning events (a harvest ObjectEvent ADD, a TransformationEvent's outputs) that were
    not declared wrong. None when no such event names the lot with a quantity."""
    stmt = (
        select(func.sum(EventIdent.quantity), func.min(EventIdent.uom), func.count())
        .join(EpcisEvent, EpcisEvent.id == EventIdent.event_pk)
        .where(
            EventIdent.ident == lot_ident,
            EventIdent.quantity.is_not(None),
            EpcisEvent.organisation_id == organisation_id,
            EpcisEvent.error_declared.is_(False),
            or_(
                (EventIdent.role == m.ROLE_QUANTITY) & (EpcisEvent.action == "ADD"),
                EventIdent.role == m.ROLE_OUTPUT_QUANTITY,
            ),
        )
    )
    total, uom, n = session.execute(stmt).one()
    if not n or total is None:
        return None
    return float(total), uom


def set_status(session: Session, stamp_ids: Sequence[int], values: Mapping[str, Any]) -> None:
    for start in range(0, len(stamp_ids), 500):
        chunk = list(stamp_ids[start : start + 500])
        stmt = (
            update(Stamp)
            .where(Stamp.id.in_(chunk))
            .values(**values)
            .execution_options(synchronize_session="fetch")
        )
        session.execute(stmt)
