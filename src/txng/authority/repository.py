"""All SQL of authority actions: the stamps an action selects, products by GTIN."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from txng.models import Organisation, Product, Stamp


def organisation_by_tax_code(session: Session, tax_code: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.tax_code == tax_code)).first()


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.scalars(select(Product).where(Product.gtin == gtin)).first()


def stamps_by_codes(session: Session, product_id: int, codes: Collection[str]) -> list[Stamp]:
    """A product's stamps named by serial or by printed short code."""
    if not codes:
        return []
    stmt = select(Stamp).where(
        Stamp.product_id == product_id,
        or_(Stamp.serial.in_(list(codes)), Stamp.short_code.in_(list(codes))),
    )
    return list(session.scalars(stmt.order_by(Stamp.id)))


def stamps_between(session: Session, product_id: int, first_id: int, last_id: int) -> list[Stamp]:
    """A range of a product's stamps in the order they were issued (printed on the sheets)."""
    low, high = sorted((first_id, last_id))
    stmt = select(Stamp).where(Stamp.product_id == product_id, Stamp.id >= low, Stamp.id <= high)
    return list(session.scalars(stmt.order_by(Stamp.id)))


def stamps_of_lot(session: Session, product_id: int, lot: str) -> list[Stamp]:
    stmt = select(Stamp).where(Stamp.product_id == product_id, Stamp.lot == lot)
    return list(session.scalars(stmt.order_by(Stamp.id)))
