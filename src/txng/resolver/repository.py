"""The resolver's reads: published events naming an identifier, registry rows by GS1 key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.models import EpcisEvent, Facility, Organisation, Product
from txng.models.epcis import EventIdent
from txng.models.registry import ProductCertification, ProductImage
from txng.models.stamps import Stamp

MAX_EVENTS = 100  # a consumer page lists at most this many events


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.scalar(select(Product).where(Product.gtin == gtin))


def organisation(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisation_by_gln(session: Session, gln: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.gln == gln))


def facility_by_gln(session: Session, gln: str) -> Facility | None:
    return session.scalar(select(Facility).where(Facility.gln == gln))


def stamp(session: Session, gtin: str, serial: str) -> Stamp | None:
    return session.scalar(select(Stamp).where(Stamp.gtin == gtin, Stamp.serial == serial))


def certifications_of(session: Session, product_id: int) -> list[ProductCertification]:
    stmt = (
        select(ProductCertification)
        .where(ProductCertification.product_id == product_id)
        .order_by(ProductCertification.valid_to.desc(), ProductCertification.id)
    )
    return list(session.scalars(stmt))


def image_ids_of(session: Session, product_id: int) -> list[int]:
    stmt = (
        select(ProductImage.id)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return list(session.scalars(stmt))


def published_events_naming(
    session: Session, ident: str | list[str], limit: int = MAX_EVENTS
) -> list[EpcisEvent]:
    """Published, not erroneous events that name ``ident`` (or any of a list), oldest first."""
    idents = [ident] if isinstance(ident, str) else ident
    named = select(EventIdent.event_pk).where(EventIdent.ident.in_(idents))
    stmt = (
        select(EpcisEvent)
        .where(
            EpcisEvent.id.in_(named),
            EpcisEvent.published_at.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


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
