"""The resolver's reads: published events naming an identifier, registry rows by GS1 key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.models import EpcisEvent, Facility, Organisation, Product
from txng.models.epcis import EventIdent

MAX_EVENTS = 100  # a consumer page lists at most this many events


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.scalar(select(Product).where(Product.gtin == gtin))


def organisation(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisation_by_gln(session: Session, gln: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.gln == gln))


def facility_by_gln(session: Session, gln: str) -> Facility | None:
    return session.scalar(select(Facility).where(Facility.gln == gln))


def published_events_naming(
    session: Session, ident: str, limit: int = MAX_EVENTS
) -> list[EpcisEvent]:
    """Published, not erroneous events that name ``ident`` in any role, oldest first."""
    named = select(EventIdent.event_pk).where(EventIdent.ident == ident)
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
