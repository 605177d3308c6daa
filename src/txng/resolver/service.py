"""Resolving a Digital Link: what is published under it, and the links that describe it.

What counts as *known* (everything else is 404, so drafts never leak and made-up lot or serial
numbers are not vouched for — a counterfeiter's invented lot must not resolve as genuine):

* ``/01/{gtin}`` (with or without a CPV ``/22``, which we do not model and ignore for the
  lookup): a product with that GTIN has a published version;
* ``/01/{gtin}/10/{lot}``: the product is published **and** a published event names the lot
  (its canonical lgtin Digital Link in ``epcis_event_ident``, any role);
* ``/01/{gtin}/21/{serial}`` (with or without lot): the product is published and a published event
  names the item (sgtin). Stamps will add their own serials later;
* ``/00/{sscc}``: a published event names the logistic unit;
* ``/414/{gln}[/254/{ext}]``: an organisation or facility with that GLN has a published version.

The product's name comes from its published version (the snapshot the reviewers approved), never
from the current row, which may hold unpublished edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from txng.diary import activities
from txng.errors import N_, NotFound, TxngError
from txng.kit import i18n
from txng.models import EpcisEvent
from txng.resolver import repository
from txng.resolver.dl import DigitalLink
from txng.review import service as review_service
from txng.trace import scope

GS1_VOC: Final = "https://gs1.org/voc/"
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


class NoSuchLinkType(NotFound):
    type_slug = "no-such-link-type"
    default_message = N_("This identifier has no link of the requested type")


@dataclass(frozen=True)
class EventLine:
    """One published event as the consumer page lists it."""

    time: datetime
    step: str  # a msgid, or the raw bizStep when we have no label for it
    place: str | None


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

    @property
    def lot(self) -> str | None:
        return self.link.qualifier("10")

    @property
    def serial(self) -> str | None:
        return self.link.qualifier("21")


def resolve(session: Session, *, link: DigitalLink) -> Resolution:
    """What is published under ``link``; NotResolved (404) when nothing is."""
    if link.key_ai == "01":
        return _trade_item(session, link)
    if link.key_ai == "00":
        events = repository.published_events_naming(session, link.ident)
        if not events:
            raise NotResolved()
        return Resolution(link, "logistic_unit", events=_lines(session, events))
    return _location(session, link)


def _trade_item(session: Session, link: DigitalLink) -> Resolution:
    product = repository.product_by_gtin(session, link.key)
    if product is None:
        raise NotResolved()
    published = review_service.public_version(session, entity_type="product", entity_id=product.id)
    if published is None:
        raise NotResolved()
    kind = "item" if link.qualifier("21") else "lot" if link.qualifier("10") else "product"
    events: list[EpcisEvent] = []
    if kind != "product":
        events = repository.published_events_naming(session, link.ident)
        if not events:
            raise NotResolved()
    name, address = _producer(session, product.organisation_id)
    return Resolution(
        link,
        kind,
        product_id=product.id,
        product=published.snapshot,
        producer_name=name,
        producer_address=address,
        events=_lines(session, events),
    )


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


def _lines(session: Session, events: list[EpcisEvent]) -> tuple[EventLine, ...]:
    where = {e.biz_location or e.read_point for e in events} - {None}
    places = scope.resolve_places(session, [w for w in where if w])
    lines = []
    for event in events:
        location = event.biz_location or event.read_point
        place = places.get(location) if location else None
        lines.append(EventLine(event.event_time, step_label(event), place.name if place else None))
    return tuple(lines)


def step_label(event: EpcisEvent) -> str:
    activity = activities.activity_of(event.body)
    if activity is not None:
        return activity.label
    step = (event.biz_step or "").rsplit("BizStep-", 1)[-1].rsplit(":", 1)[-1]
    return STEP_LABELS.get(step, step or N_("Event"))


# links -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    rel: str  # compact GS1 link type, e.g. gs1:pip
    href: str
    title: str
    type: str


def links(resolution: Resolution, base_url: str) -> list[Link]:
    """Our own pages and APIs about the resolved thing, by GS1 link type."""
    link = resolution.link
    ident = quote(link.ident, safe="")
    out: list[Link] = []
    if resolution.product_id is not None:
        out.append(
            Link(
                "gs1:pip",
                f"{base_url}/san-pham/{resolution.product_id}",
                N_("Product information"),
                "text/html",
            )
        )
    if resolution.kind in ("lot", "item", "logistic_unit"):
        out.append(
            Link("gs1:traceability", f"{base_url}/trace?id={ident}", N_("Trace"), "text/html")
        )
        match = {"lot": "MATCH_epcClass", "item": "MATCH_epc"}.get(resolution.kind, "MATCH_anyEPC")
        out.append(
            Link(
                "gs1:epcis",
                f"{base_url}/epcis/events?{urlencode({match: link.ident})}",
                N_("EPCIS events"),
                "application/ld+json",
            )
        )
    if resolution.product_id is not None:
        tail = link.path
        out.append(
            Link(
                "gs1:certificationInfo",
                f"{base_url}/api/resolver/certification-info{tail}",
                N_("Certifications and standards"),
                "application/json",
            )
        )
        out.append(
            Link(
                "gs1:recallStatus",
                f"{base_url}/api/resolver/recall-status{tail}",
                N_("Recall status"),
                "application/json",
            )
        )
    if out:
        first = out[0]
        out.insert(0, Link("gs1:defaultLink", first.href, first.title, first.type))
    return out


def find_link(resolution: Resolution, base_url: str, link_type: str) -> Link:
    """The link of one type (compact ``gs1:epcis`` or full ``https://gs1.org/voc/epcis``)."""
    wanted = (
        "gs1:" + link_type.removeprefix(GS1_VOC) if link_type.startswith(GS1_VOC) else link_type
    )
    for candidate in links(resolution, base_url):
        if candidate.rel == wanted:
            return candidate
    raise NoSuchLinkType()


def linkset(
    resolution: Resolution, base_url: str, *, locale: str = i18n.DEFAULT_LOCALE
) -> dict[str, Any]:
    """The RFC 9264 linkset: anchor = the canonical Digital Link on our domain."""
    context: dict[str, Any] = {"anchor": base_url + resolution.link.path}
    for item in links(resolution, base_url):
        target = {
            "href": item.href,
            "title": i18n.gettext(locale, item.title),
            "type": item.type,
            "hreflang": [locale],
        }
        context.setdefault(GS1_VOC + item.rel.removeprefix("gs1:"), []).append(target)
    return {"linkset": [context]}


def description(base_url: str, name: str) -> dict[str, Any]:
    """The resolver description file served at ``/.well-known/gs1resolver``."""
    return {
        "name": name,
        "resolverRoot": base_url,
        "supportedPrimaryKeys": ["01", "00", "414"],
        "supportedLinkType": [
            {
                "namespace": GS1_VOC,
                "prefix": "gs1:",
                "profile": "https://gs1.org/voc/?show=linktypes",
            }
        ],
        "linkTypeDefaultCanBeLinkset": True,
        "supportedContextValuesEnumerated": [],
        "supportedContextValuesExternal": [],
    }
