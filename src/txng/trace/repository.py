"""All SQL of the trace: batched lookups over the event index and the registry.

Every function takes whole batches (a hop's frontier, a chunk of events) and splits long ``IN``
lists into chunks, so that a trace costs a few indexed queries per hop whatever its width:

* ``epcis_event_ident`` by ``(ident, role)`` (index ``ix_epcis_event_ident_ident_role``) finds the
  events naming the frontier;
* ``epcis_event_ident`` and ``epcis_event_link`` by ``event_pk`` (``ix_…_event``) give those
  events' other identifiers, sources, destinations and business transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Result,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from txng.models import EpcisEvent, EventIdent, EventLink, Facility, Organisation, Product

CHUNK = 500
LINK_PLACE_KINDS = ("source", "dest")

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class EventInfo:
    """The columns of an event that a trace shows and decides on."""

    pk: int
    event_id: str
    event_type: str
    action: str | None
    time: datetime
    biz_step: str | None
    location: str | None  # bizLocation, else readPoint (canonical)
    organisation_id: int | None
    published: bool


# The rows below come by the hundred thousand (every item of a big lot): named tuples, cheaper
# to build than frozen dataclasses.
class Hit(NamedTuple):
    """One identifier of the frontier named by one event, in one role."""

    ident: str
    role: str
    quantity: float | None
    uom: str | None
    event: EventInfo


class IdentRow(NamedTuple):
    event_pk: int
    role: str
    ident: str
    quantity: float | None
    uom: str | None


class LinkRow(NamedTuple):
    event_pk: int
    kind: str  # bt | source | dest
    type: str | None
    value: str


_EVENT_COLUMNS = (
    EpcisEvent.id,
    EpcisEvent.event_id,
    EpcisEvent.event_type,
    EpcisEvent.action,
    EpcisEvent.event_time,
    EpcisEvent.biz_step,
    EpcisEvent.biz_location,
    EpcisEvent.read_point,
    EpcisEvent.organisation_id,
    EpcisEvent.published_at,
)


def _event_info(row: Sequence[Any], offset: int = 0) -> EventInfo:
    (pk, event_id, event_type, action, time, biz_step, biz_location, read_point, org, pub) = row[
        offset : offset + len(_EVENT_COLUMNS)
    ]
    return EventInfo(
        pk=pk,
        event_id=event_id,
        event_type=event_type,
        action=action,
        time=time,
        biz_step=biz_step,
        location=biz_location or read_point,
        organisation_id=org,
        published=pub is not None,
    )


def _plain(session: Session, stmt: Select[*Ts]) -> Result[*Ts]:
    """Plain rows of a column query, without the ORM's per-row work (a third of the cost of the
    100,000 rows of a big lot); flushes first when the session autoflushes, as the ORM would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(stmt)


def _ident_in(session: Session, idents: list[str]) -> ColumnElement[bool]:
    """``ident IN (…)``; on PostgreSQL ``ident = ANY(array)``: one parameter, not one per value
    to render and parse again for every chunk of a 100,000-item frontier."""
    if session.get_bind().dialect.name == "postgresql":
        return EventIdent.ident == any_(bindparam(None, idents, type_=ARRAY(String())))
    return EventIdent.ident.in_(idents)


def _live(scope: ColumnElement[bool]) -> ColumnElement[bool]:
    # An event whose error was declared is retracted: it no longer says anything about the goods.
    return and_(EpcisEvent.error_declared.is_(False), scope)


def hits(
    session: Session,
    idents: Collection[str],
    roles: Sequence[str],
    scope: ColumnElement[bool],
) -> list[Hit]:
    """The visible events naming any of ``idents`` in one of ``roles``: one query per chunk, and
    one per chunk that meets events not seen yet (a few events name many identifiers: their
    columns are read once, not once per identifier)."""
    out: list[Hit] = []
    events: dict[int, EventInfo] = {}  # one object per event, however many idents it names
    for chunk in chunks(sorted(idents)):
        stmt = (
            select(
                EventIdent.ident,
                EventIdent.role,
                EventIdent.quantity,
                EventIdent.uom,
                EventIdent.event_pk,
            )
            .join(EpcisEvent, EpcisEvent.id == EventIdent.event_pk)
            .where(_ident_in(session, chunk), EventIdent.role.in_(roles), _live(scope))
        )
        rows = _plain(session, stmt).all()
        new = {row[4] for row in rows}.difference(events)
        if new:
            events.update(_event_infos(session, new))
        out.extend(
            [Hit(ident, role, quantity, uom, events[pk]) for ident, role, quantity, uom, pk in rows]
        )
    return out


def _event_infos(session: Session, event_pks: Collection[int]) -> dict[int, EventInfo]:
    out: dict[int, EventInfo] = {}
    for chunk in chunks(sorted(event_pks)):
        stmt = select(*_EVENT_COLUMNS).where(EpcisEvent.id.in_(chunk))
        for row in session.execute(stmt):
            info = _event_info(row)
            out[info.pk] = info
    return out


def transaction_hits(
    session: Session, values: Collection[str], scope: ColumnElement[bool]
) -> list[tuple[str, EventInfo]]:
    """The visible events that name one of ``values`` as a business transaction (a shipment)."""
    out: list[tuple[str, EventInfo]] = []
    for chunk in chunks(sorted(values)):
        stmt = (
            select(EventLink.value, *_EVENT_COLUMNS)
            .join(EpcisEvent, EpcisEvent.id == EventLink.event_pk)
            .where(EventLink.value.in_(chunk), EventLink.kind == "bt", _live(scope))
        )
        out.extend((row[0], _event_info(row, 1)) for row in session.execute(stmt))
    return out


def idents_of(session: Session, event_pks: Collection[int], roles: Sequence[str]) -> list[IdentRow]:
    """The identifiers that the given events name in the given roles."""
    out: list[IdentRow] = []
    for chunk in chunks(sorted(event_pks)):
        stmt = select(
            EventIdent.event_pk,
            EventIdent.role,
            EventIdent.ident,
            EventIdent.quantity,
            EventIdent.uom,
        ).where(EventIdent.event_pk.in_(chunk), EventIdent.role.in_(roles))
        out.extend(map(IdentRow._make, _plain(session, stmt).all()))
    return out


def idents_named(
    session: Session, event_pks: Collection[int], roles: Sequence[str]
) -> list[tuple[int, str]]:
    """(event, identifier) pairs of :func:`idents_of`, without the quantities."""
    out: list[tuple[int, str]] = []
    for chunk in chunks(sorted(event_pks)):
        stmt = select(EventIdent.event_pk, EventIdent.ident).where(
            EventIdent.event_pk.in_(chunk), EventIdent.role.in_(roles)
        )
        out.extend((pk, ident) for pk, ident in _plain(session, stmt).all())
    return out


def links_of(session: Session, event_pks: Collection[int]) -> list[LinkRow]:
    """Sources, destinations and business transactions of the given events."""
    out: list[LinkRow] = []
    for chunk in chunks(sorted(event_pks)):
        stmt = select(EventLink.event_pk, EventLink.kind, EventLink.type, EventLink.value).where(
            EventLink.event_pk.in_(chunk)
        )
        out.extend(map(LinkRow._make, session.execute(stmt)))
    return out


def bodies_of(session: Session, event_pks: Collection[int]) -> dict[int, dict[str, Any]]:
    """The captured JSON-LD of the given events (used for their ILMD)."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks(sorted(event_pks)):
        stmt = select(EpcisEvent.id, EpcisEvent.body).where(EpcisEvent.id.in_(chunk))
        out.update({pk: body for pk, body in session.execute(stmt)})
    return out


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as the recall spreadsheet needs it."""

    info: EventInfo
    time_zone_offset: str
    body: dict[str, Any]


def events_by_pk(session: Session, event_pks: Sequence[int]) -> dict[int, EventRecord]:
    out: dict[int, EventRecord] = {}
    for chunk in chunks(event_pks):
        stmt = select(*_EVENT_COLUMNS, EpcisEvent.event_time_zone_offset, EpcisEvent.body).where(
            EpcisEvent.id.in_(chunk)
        )
        for *columns, offset, body in session.execute(stmt):
            info = _event_info(columns)
            out[info.pk] = EventRecord(info, offset, body)
    return out


# visibility ----------------------------------------------------------------------------------


def organisations_naming(
    session: Session, place_ids: Collection[str], organisation_ids: Collection[int]
) -> set[int]:
    """Which of ``organisation_ids`` recorded an event with one of ``place_ids`` as source or
    destination."""
    if not place_ids or not organisation_ids:
        return set()
    found: set[int] = set()
    for chunk in chunks(sorted(organisation_ids)):
        stmt = (
            select(EpcisEvent.organisation_id)
            .join(EventLink, EventLink.event_pk == EpcisEvent.id)
            .where(
                EventLink.value.in_(sorted(place_ids)),
                EventLink.kind.in_(LINK_PLACE_KINDS),
                EpcisEvent.organisation_id.in_(chunk),
            )
            .distinct()
        )
        found.update(org for org in session.scalars(stmt) if org is not None)
    return found


def places_named_by(session: Session, organisation_id: int, place_ids: Collection[str]) -> set[str]:
    """Which of ``place_ids`` the organisation's own events name as source or destination."""
    found: set[str] = set()
    for chunk in chunks(sorted(place_ids)):
        stmt = (
            select(EventLink.value)
            .join(EpcisEvent, EpcisEvent.id == EventLink.event_pk)
            .where(
                EventLink.value.in_(chunk),
                EventLink.kind.in_(LINK_PLACE_KINDS),
                EpcisEvent.organisation_id == organisation_id,
            )
            .distinct()
        )
        found.update(session.scalars(stmt))
    return found


def movements(
    session: Session,
    place_ids: Collection[str],
    organisation_id: int,
    scope: ColumnElement[bool],
    limit: int,
) -> list[EventInfo]:
    """The latest visible events that name the organisation's places as source or destination,
    or that the organisation recorded with a source or destination."""
    named = select(EventLink.event_pk).where(
        EventLink.value.in_(sorted(place_ids)) if place_ids else false(),
        EventLink.kind.in_(LINK_PLACE_KINDS),
    )
    own = select(EventLink.event_pk).where(
        EventLink.kind.in_(LINK_PLACE_KINDS),
        EventLink.event_pk == EpcisEvent.id,
    )
    stmt = (
        select(*_EVENT_COLUMNS)
        .where(
            _live(scope),
            or_(
                EpcisEvent.id.in_(named),
                and_(EpcisEvent.organisation_id == organisation_id, own.exists()),
            ),
        )
        .order_by(EpcisEvent.event_time.desc(), EpcisEvent.id.desc())
        .limit(limit)
    )
    return [_event_info(row) for row in session.execute(stmt)]


# registry ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    id: int
    name: str
    gln: str | None


@dataclass(frozen=True, slots=True)
class FacilityRow:
    id: int
    organisation_id: int
    name: str
    kind: str
    gln: str | None
    location_code: str
    street_address: str


def organisations(session: Session, ids: Collection[int]) -> dict[int, OrganisationRow]:
    out: dict[int, OrganisationRow] = {}
    for chunk in chunks(sorted(ids)):
        stmt = select(Organisation.id, Organisation.name, Organisation.gln).where(
            Organisation.id.in_(chunk)
        )
        out.update({row[0]: OrganisationRow(*row) for row in session.execute(stmt)})
    return out


def organisations_by_gln(session: Session, glns: Collection[str]) -> dict[str, OrganisationRow]:
    out: dict[str, OrganisationRow] = {}
    for chunk in chunks(sorted(glns)):
        stmt = select(Organisation.id, Organisation.name, Organisation.gln).where(
            Organisation.gln.in_(chunk)
        )
        for org_id, name, gln in session.execute(stmt):
            if gln:
                out[gln] = OrganisationRow(org_id, name, gln)
    return out


_FACILITY_COLUMNS = (
    Facility.id,
    Facility.organisation_id,
    Facility.name,
    Facility.kind,
    Facility.gln,
    Facility.location_code,
    Facility.street_address,
)


def facilities_by_gln(session: Session, glns: Collection[str]) -> dict[str, FacilityRow]:
    out: dict[str, FacilityRow] = {}
    for chunk in chunks(sorted(glns)):
        stmt = select(*_FACILITY_COLUMNS).where(Facility.gln.in_(chunk))
        for row in session.execute(stmt):
            facility = FacilityRow(*row)
            if facility.gln:
                out[facility.gln] = facility
    return out


def facilities_of(session: Session, organisation_ids: Collection[int]) -> list[FacilityRow]:
    out: list[FacilityRow] = []
    for chunk in chunks(sorted(organisation_ids)):
        stmt = select(*_FACILITY_COLUMNS).where(Facility.organisation_id.in_(chunk))
        out.extend(FacilityRow(*row) for row in session.execute(stmt))
    return out


def company_prefixes(session: Session) -> set[str]:
    """The GS1 company prefixes the registry knows (to write EPC URNs of their keys)."""
    stmt = select(Organisation.gs1_company_prefix).where(
        Organisation.gs1_company_prefix.is_not(None)
    )
    return {p for p in session.scalars(stmt).unique() if p}


def product_names(session: Session, gtins: Collection[str]) -> dict[str, str]:
    """GTIN-14 → the product's Vietnamese name."""
    out: dict[str, str] = {}
    for chunk in chunks(sorted(gtins)):
        stmt = select(Product.gtin, Product.name_vi).where(Product.gtin.in_(chunk))
        out.update({gtin: name for gtin, name in session.execute(stmt)})
    return out
