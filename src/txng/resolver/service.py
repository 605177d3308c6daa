"""Resolving a Digital Link: what is published under it, and the links that describe it.

What counts as *known* (everything else is 404, so drafts never leak and made-up lot or serial
numbers are not vouched for — a counterfeiter's invented lot must not resolve as genuine):

* ``/01/{gtin}`` (with or without a CPV ``/22``, which we do not model and ignore for the
  lookup): a product with that GTIN has a published version;
* ``/01/{gtin}/10/{lot}``: the product is published **and** a published event names the lot
  (its canonical lgtin Digital Link in ``epcis_event_ident``, any role);
* ``/01/{gtin}/21/{serial}`` (with or without lot): the product is published and either a stamp
  with that serial was issued (a lot in the link must then be the stamp's lot, when it has one)
  or a published event names the item (sgtin). Otherwise the code is *unknown* (a possible copy);
* ``/00/{sscc}``: a published event names the logistic unit;
* ``/414/{gln}[/254/{ext}]``: an organisation or facility with that GLN has a published version.

The product's name comes from its published version (the snapshot the reviewers approved), never
from the current row, which may hold unpublished edits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy.orm import Session

from txng.diary import activities
from txng.epcis import identifiers
from txng.errors import N_, NotFound, TxngError
from txng.models import EpcisEvent
from txng.recalls import repository as recalls_repository
from txng.resolver import repository
from txng.resolver.dl import DigitalLink
from txng.review import service as review_service
from txng.trace import engine as trace_engine
from txng.trace import scope
from txng.trace.graph import BACKWARD

log = logging.getLogger("txng.resolver")
GS1_VOC: Final = "https://gs1.org/voc/"
JOURNEY_DEPTH: Final = 6  # transformations and aggregations followed upstream of a lot
LINKSET_TYPE: Final = "application/linkset+json"

# Business steps of CBV 2.0 that our events use, for the consumer page.
STEP_LABELS: Final = {
    "commissioning": N_("Harvest or production"),
    "packing": N_("Packing"),
    "shipping": N_("Shipping"),
    "receiving": N_("Receiving"),
    "inspecting": N_("Inspection"),
    "storing": N_("Storage"),
    "retail_selling": N_("Retail sale"),
}


class InvalidDigitalLink(TxngError):
    status_code = 400
    type_slug = "invalid-digital-link"
    default_message = N_("This is not a valid GS1 Digital Link")


class NotResolved(NotFound):
    type_slug = "not-resolved"
    default_message = N_("Nothing is published under this identifier")


class UnknownCode(NotResolved):
    """A serial we never issued nor saw: the consumer page warns of a possible counterfeit."""

    type_slug = "unknown-code"
    default_message = N_("Unknown code: this code was not issued by the traceability system")


@dataclass(frozen=True)
class EventLine:
    """One published event as the consumer page lists it."""

    time: datetime
    step: str  # a msgid, or the raw bizStep when we have no label for it
    place: str | None
    recorded: datetime | None = None  # recordTime: when it was entered in the system

    @property
    def days_late(self) -> int:
        """Whole days between the event and its recording (0: recorded at the time)."""
        if self.recorded is None:
            return 0
        return max(0, (self.recorded - self.time).days)


@dataclass(frozen=True)
class StampInfo:
    id: int
    serial: str
    short_code: str
    lot: str | None
    status: str  # issued | active | deactivated | lost | suspended
    status_reason: str | None
    activated_at: datetime | None


@dataclass(frozen=True)
class RecallInfo:
    reason: str
    severity: str
    instructions_vi: str
    instructions_en: str
    issued_at: datetime

    def instructions(self, locale: str) -> str:
        return (self.instructions_en if locale == "en" else "") or self.instructions_vi


@dataclass(frozen=True)
class Resolution:
    """What is published under a Digital Link."""

    link: DigitalLink
    kind: str  # product | lot | item | logistic_unit | location
    product_id: int | None = None
    product: Mapping[str, Any] = field(default_factory=dict)  # the published snapshot
    producer_name: str | None = None
    producer_address: str | None = None
    place_name: str | None = None
    events: tuple[EventLine, ...] = ()
    organisation_id: int | None = None
    product_suspended: bool = False
    organisation_suspended: bool = False
    stamp: StampInfo | None = None
    recalls: tuple[RecallInfo, ...] = ()

    @property
    def lot(self) -> str | None:
        if self.stamp is not None and self.stamp.lot:
            return self.stamp.lot
        return self.link.qualifier("10")

    @property
    def recalled(self) -> bool:
        return bool(self.recalls)

    @property
    def produced_at(self) -> datetime | None:
        """The first event of the lot or item, else the stamp's activation: shelf life starts."""
        if self.events:
            return self.events[0].time
        return self.stamp.activated_at if self.stamp else None

    @property
    def serial(self) -> str | None:
        return self.link.qualifier("21")


def resolve(
    session: Session,
    *,
    link: DigitalLink,
    cache: PublishedCache | None = None,
    upstream: PublishedCache | None = None,
) -> Resolution:
    """What is published under ``link``; NotResolved (404) when nothing is.

    With a ``cache``, a product's and lot's published facts may be a few seconds old; the stamp,
    the item's own event ids and the recalls are always read fresh. With ``upstream``, what is
    keyed by event ids (the trace upstream of a lot, an item's own events) is kept for its
    longer time (see ``published`` and ``_own_lines``)."""
    if link.key_ai == "01":
        return _trade_item(session, link, cache, upstream)
    if link.key_ai == "00":
        events = repository.published_events_naming(session, link.ident)
        if not events:
            raise NotResolved()
        return Resolution(link, "logistic_unit", events=_lines(session, events))
    return _location(session, link)


@dataclass(frozen=True)
class Published:
    """What is published about a product and one of its lots (cacheable for a few seconds)."""

    product_id: int
    organisation_id: int
    snapshot: Mapping[str, Any]
    producer_name: str | None
    producer_address: str | None
    product_suspended: bool
    organisation_suspended: bool
    lot_events: tuple[EventLine, ...]


def published(
    session: Session, *, gtin: str, lot: str | None, upstream: PublishedCache | None = None
) -> Published | None:
    """The published product with this GTIN and the published events of ``lot``; None if none.

    The events upstream of the lot come from a backward trace, which walks every item activated
    in the lot (about a second of database time for 10,000 stamps): with an ``upstream`` cache it
    is made again only when the lot's own published events change or the cache's time is up. The
    traced events are read by id each time, so one declared erroneous disappears at once."""
    product = repository.product_by_gtin(session, gtin)
    if product is None:
        return None
    version = review_service.public_version(session, entity_type="product", entity_id=product.id)
    if version is None:
        return None
    name, address = _producer(session, product.organisation_id)
    org = repository.organisation(session, product.organisation_id)
    events: list[EpcisEvent] = []
    if lot is not None:
        lgtin = identifiers.lgtin_dl(gtin, lot)
        events = repository.published_lot_events(session, lgtin)
        if events:  # one step back and further: the harvest lot a packed lot was made from
            own = {e.id for e in events}

            def trace() -> frozenset[int]:
                return frozenset(_upstream_event_ids(session, lgtin))

            key = ("upstream", lgtin, tuple(sorted(own)))
            traced = trace() if upstream is None else upstream.get_or_make(key, trace)
            activations = repository.item_commissioning_ids(session, lgtin)  # on item pages
            found = events + repository.published_events_by_id(
                session, set(traced) - own - activations
            )
            events = sorted(found, key=lambda e: (e.event_time, e.id))[: repository.MAX_EVENTS]
    return Published(
        product.id,
        product.organisation_id,
        version.snapshot,
        name,
        address,
        product.status == "suspended",
        org is not None and org.status == "suspended",
        _lines(session, events),
    )


def _upstream_event_ids(session: Session, lgtin: str) -> set[int]:
    """Published events upstream of a lot (backward trace as the public sees it)."""
    try:
        found = trace_engine.trace(
            session, None, lgtin, direction=BACKWARD, max_depth=JOURNEY_DEPTH, keep_edges=False
        )
    except Exception:  # the journey is a bonus: the page must show even if tracing fails
        log.exception("backward trace of %s failed", lgtin)
        return set()
    return set(found.events)


_Cached = TypeVar("_Cached")


class PublishedCache(Protocol):
    def get_or_make(self, key: Hashable, make: Callable[[], _Cached]) -> _Cached: ...


def _trade_item(
    session: Session,
    link: DigitalLink,
    cache: PublishedCache | None,
    upstream: PublishedCache | None = None,
) -> Resolution:
    serial, link_lot = link.qualifier("21"), link.qualifier("10")
    stamp, own_events, recalled = (
        (None, False, True) if serial is None else _stamp(session, link.key, serial, link_lot)
    )
    lot = (stamp.lot if stamp else None) or link_lot

    def make() -> Published | None:
        return published(session, gtin=link.key, lot=lot, upstream=upstream)

    pub = make() if cache is None else cache.get_or_make(("published", link.key, lot), make)
    if pub is None:
        raise UnknownCode() if serial and stamp is None else NotResolved()
    kind = "item" if serial else "lot" if lot else "product"
    idents: list[str] = []
    events = pub.lot_events if kind != "product" else ()
    if serial is not None:
        sgtin = identifiers.sgtin_dl(link.key, serial)
        idents.append(sgtin)
        if stamp is None:  # no stamp of ours: known only if a published event names the item
            events = _lines(session, repository.published_events_naming(session, link.ident))
            if not events:
                raise UnknownCode()
        elif own_events:  # the item's own events (its stamp's activation, a unit shipped alone)
            own = _own_lines(session, sgtin, cache if upstream is None else upstream)
            events = tuple(sorted(set(events) | set(own), key=lambda e: (e.time, e.step)))
    elif kind == "lot" and not events:
        raise NotResolved()
    if lot is not None:
        idents.append(identifiers.lgtin_dl(link.key, lot))
    return Resolution(
        link,
        kind,
        product_id=pub.product_id,
        product=pub.snapshot,
        producer_name=pub.producer_name,
        producer_address=pub.producer_address,
        events=events,
        organisation_id=pub.organisation_id,
        product_suspended=pub.product_suspended,
        organisation_suspended=pub.organisation_suspended,
        stamp=stamp,
        # the stamp's statement told whether a recall names the item or the link's lot: when
        # that lot is the stamp's, the notices need reading only if one does
        recalls=_recalls(session, idents) if recalled or lot != link_lot else (),
    )


def _stamp(
    session: Session, gtin: str, serial: str, lot: str | None
) -> tuple[StampInfo | None, bool, bool]:
    """The issued stamp, whether published events name the item itself, and whether an active
    recall names the item or ``lot`` (the link's); UnknownCode when the link names another lot
    than the stamp's."""
    row = repository.stamp(
        session,
        gtin,
        serial,
        item=identifiers.sgtin_dl(gtin, serial),
        lot_item=None if lot is None else identifiers.lgtin_dl(gtin, lot),
    )
    if row is None:
        return None, False, True
    if lot is not None and row.lot and row.lot != lot:
        raise UnknownCode()
    return StampInfo(*row[:7]), row.own_events, row.recalled


def _recalls(session: Session, idents: list[str]) -> tuple[RecallInfo, ...]:
    return tuple(RecallInfo(*r) for r in recalls_repository.notices_affecting(session, idents))


def _producer(session: Session, organisation_id: int) -> tuple[str | None, str | None]:
    """The published profile of the producer; its name alone when none is published yet."""
    published = review_service.public_version(
        session, entity_type="organisation", entity_id=organisation_id
    )
    if published is not None:
        snap = published.snapshot
        return snap.get("name"), snap.get("street_address") or None
    org = repository.organisation(session, organisation_id)
    return (org.name if org else None), None


def _location(session: Session, link: DigitalLink) -> Resolution:
    facility = repository.facility_by_gln(session, link.key)
    if facility is not None and review_service.is_public(
        session, entity_type="facility", entity_id=facility.id
    ):
        published = review_service.public_version(
            session, entity_type="facility", entity_id=facility.id
        )
        snap = published.snapshot if published else {}
        return Resolution(link, "location", place_name=snap.get("name"))
    org = repository.organisation_by_gln(session, link.key)
    if org is not None:
        published = review_service.public_version(
            session, entity_type="organisation", entity_id=org.id
        )
        if published is not None:
            snap = published.snapshot
            return Resolution(
                link,
                "location",
                producer_name=snap.get("name"),
                producer_address=snap.get("street_address") or None,
                place_name=snap.get("name"),
            )
    raise NotResolved()


def _own_lines(session: Session, item: str, cache: PublishedCache | None) -> tuple[EventLine, ...]:
    """The journey lines of the events that name ``item`` itself. Their ids are read on every
    page; the lines are cached by those ids (in the lasting ``upstream`` cache when the page has
    one): an activation names up to a thousand items in one event, whose body is large, and its
    items' pages share it. A newly published event, or one declared erroneous, makes other ids:
    shown, or gone, at once."""
    ids = repository.published_event_ids_naming(session, item)
    if not ids:
        return ()

    def make() -> tuple[EventLine, ...]:
        return _lines(session, repository.published_events_by_id(session, set(ids)))

    return make() if cache is None else cache.get_or_make(("item_events", ids), make)


def _lines(session: Session, events: list[EpcisEvent]) -> tuple[EventLine, ...]:
    if not events:
        return ()
    where = {e.biz_location or e.read_point for e in events} - {None}
    places = scope.resolve_places(session, [w for w in where if w])
    lines = []
    for event in events:
        location = event.biz_location or event.read_point
        place = places.get(location) if location else None
        lines.append(
            EventLine(
                event.event_time,
                step_label(event),
                place.name if place else None,
                event.record_time,
            )
        )
    return tuple(lines)


def step_label(event: EpcisEvent) -> str:
    activity = activities.activity_of(event.body)
    if activity is not None:
        return activity.label
    step = (event.biz_step or "").rsplit("BizStep-", 1)[-1].rsplit(":", 1)[-1]
    return STEP_LABELS.get(step, step or N_("Event"))
