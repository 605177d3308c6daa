"""The resolver's reads: published events naming an identifier, registry rows by GS1 key."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import ColumnElement, Select, String, bindparam, exists, select
from sqlalchemy.orm import Session

from txng.db import read_rows
from txng.models import EpcisEvent, Facility, Organisation, Product
from txng.models.epcis import ROLE_LOT, EventIdent
from txng.models.stamps import Stamp
from txng.recalls import repository as recalls_repository

MAX_EVENTS = 100  # a consumer page lists at most this many events


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.scalar(select(Product).where(Product.gtin == gtin))


def organisation(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisation_by_gln(session: Session, gln: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.gln == gln))


def facility_by_gln(session: Session, gln: str) -> Facility | None:
    return session.scalar(select(Facility).where(Facility.gln == gln))


class StampRow(NamedTuple):
    id: int
    serial: str
    short_code: str
    lot: str | None
    status: str
    status_reason: str | None
    activated_at: datetime | None
    own_events: bool  # a published, not erroneous event names the item itself
    recalled: bool  # an active recall names the item, or the lot of the link (see ``stamp``)


def _published_naming(ident: ColumnElement[str]) -> ColumnElement[bool]:
    return exists(
        select(EventIdent.id)
        .join(EpcisEvent, EpcisEvent.id == EventIdent.event_pk)
        .where(
            EventIdent.ident == ident,
            EpcisEvent.published_at.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
    )


_STAMP: Final = select(
    Stamp.id,
    Stamp.serial,
    Stamp.short_code,
    Stamp.lot,
    Stamp.status,
    Stamp.status_reason,
    Stamp.activated_at,
    _published_naming(bindparam("item", type_=String)).label("own_events"),
    recalls_repository.any_active_naming(
        bindparam("item", type_=String), bindparam("lot_item", type_=String)
    ).label("recalled"),
).where(Stamp.gtin == bindparam("gtin"), Stamp.serial == bindparam("serial"))


def stamp(
    session: Session, gtin: str, serial: str, *, item: str, lot_item: str | None = None
) -> StampRow | None:
    """The columns the consumer page needs, whether a published event names ``item`` (the
    stamp's sgtin), and whether an active recall names ``item`` or ``lot_item`` (the lgtin of the
    link's lot), in one statement; plain Core (no ORM layer on a hot path), on the event loop's
    own connection when the session has one (see ``db.read_rows``)."""
    params = {"gtin": gtin, "serial": serial, "item": item, "lot_item": lot_item}
    rows = read_rows(session, _STAMP, params)  # at most one: (gtin, serial) is unique
    if not rows:
        return None
    row = rows[0]
    return StampRow._make((*row[:-2], bool(row[-2]), bool(row[-1])))


def _published_among(column: Any, events: Select[Any], limit: Any) -> Select[Any]:
    """``column`` of the published, not erroneous events among ``events`` (a SELECT of event
    ids), oldest first, at most ``limit``."""
    return (
        select(column)
        .where(
            EpcisEvent.id.in_(events),
            EpcisEvent.published_at.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
        .limit(limit)
    )


_NAMING: Final = _published_among(
    EpcisEvent,
    select(EventIdent.event_pk).where(EventIdent.ident.in_(bindparam("idents", expanding=True))),
    bindparam("limit"),
)


_NAMING_IDS: Final = _published_among(
    EpcisEvent.id,
    select(EventIdent.event_pk).where(EventIdent.ident == bindparam("ident")),
    MAX_EVENTS,
)


def published_event_ids_naming(session: Session, ident: str) -> tuple[int, ...]:
    """The ids of the published, not erroneous events that name ``ident``, oldest first: an
    item's own events on its consumer page (on the event loop's connection when the session has
    one, see ``db.read_rows``; the events themselves are cached by id)."""
    return tuple(row[0] for row in read_rows(session, _NAMING_IDS, {"ident": ident}))


def published_events_naming(
    session: Session, ident: str | list[str], limit: int = MAX_EVENTS
) -> list[EpcisEvent]:
    """Published, not erroneous events that name ``ident`` (or any of a list), oldest first.

    One statement built once (the consumer page asks for every scan)."""
    idents = [ident] if isinstance(ident, str) else ident
    return list(session.scalars(_NAMING, {"idents": idents, "limit": limit}))


_LOT_EVENTS: Final = _published_among(
    EpcisEvent,
    select(EventIdent.event_pk).where(
        EventIdent.ident == bindparam("lot"), EventIdent.role != ROLE_LOT
    ),
    MAX_EVENTS,
)


def published_lot_events(session: Session, lgtin: str) -> list[EpcisEvent]:
    """Published, not erroneous events of a lot itself, oldest first: not those that name it only
    as the lot of the items they commission (stamp activations: each item's page shows its own)."""
    return list(session.scalars(_LOT_EVENTS, {"lot": lgtin}))


def item_commissioning_ids(session: Session, lgtin: str) -> set[int]:
    """The events that name a lot only as the lot of the items they commission."""
    as_lot = select(EventIdent.event_pk).where(
        EventIdent.ident == lgtin, EventIdent.role == ROLE_LOT
    )
    otherwise = select(EventIdent.event_pk).where(
        EventIdent.ident == lgtin, EventIdent.role != ROLE_LOT
    )
    return set(session.scalars(as_lot.except_(otherwise)))


def published_events_by_id(
    session: Session, event_pks: set[int], limit: int = MAX_EVENTS
) -> list[EpcisEvent]:
    """Published, not erroneous events among ``event_pks``, oldest first."""
    if not event_pks:
        return []
    stmt = (
        select(EpcisEvent)
        .where(
            EpcisEvent.id.in_(sorted(event_pks)[:limit]),
            EpcisEvent.published_at.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
    )
    return list(session.scalars(stmt))
