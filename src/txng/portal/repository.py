"""All SQL of the portal: read-only queries over published review items and their attachments.

The portal is a read model: what the public sees is the snapshot of each thing's published
review item (C7). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, func, inspect, or_, select, table, true
from sqlalchemy.orm import Session

from txng.models import (
    Organisation,
    Product,
    ProductCertification,
    ProductImage,
    ReviewItem,
    StoredFile,
)
from txng.review.state import State

SUSPENDED = "suspended"


def _not_suspended(entity_type: str) -> ColumnElement[bool]:
    """What the authority suspended (txng.authority) is off the public pages until reinstated:
    a suspended organisation with all its products, a suspended product."""
    if entity_type == "product":
        hidden = (
            select(Product.id)
            .join(Organisation, Organisation.id == Product.organisation_id)
            .where(or_(Product.status == SUSPENDED, Organisation.status == SUSPENDED))
        )
        return ReviewItem.entity_id.not_in(hidden)
    if entity_type == "organisation":
        return ReviewItem.entity_id.not_in(
            select(Organisation.id).where(Organisation.status == SUSPENDED)
        )
    return true()


def published_items(
    session: Session,
    entity_type: str,
    *,
    commune_code: str | None = None,
    organisation_id: int | None = None,
) -> list[ReviewItem]:
    """The published version of every thing of one type (at most one per thing)."""
    stmt = select(ReviewItem).where(
        ReviewItem.entity_type == entity_type,
        ReviewItem.state == State.PUBLISHED.value,
        _not_suspended(entity_type),
    )
    if commune_code is not None:
        stmt = stmt.where(ReviewItem.commune_code == commune_code)
    if organisation_id is not None:
        stmt = stmt.where(ReviewItem.organisation_id == organisation_id)
    return list(session.scalars(stmt.order_by(ReviewItem.entity_id)))


def published_item(session: Session, entity_type: str, entity_id: int) -> ReviewItem | None:
    stmt = select(ReviewItem).where(
        ReviewItem.entity_type == entity_type,
        ReviewItem.entity_id == entity_id,
        ReviewItem.state == State.PUBLISHED.value,
        _not_suspended(entity_type),
    )
    return session.scalars(stmt.order_by(ReviewItem.version.desc()).limit(1)).first()


def published_items_by_ids(
    session: Session, entity_type: str, entity_ids: Sequence[int]
) -> list[ReviewItem]:
    if not entity_ids:
        return []
    stmt = select(ReviewItem).where(
        ReviewItem.entity_type == entity_type,
        ReviewItem.entity_id.in_(sorted(set(entity_ids))),
        ReviewItem.state == State.PUBLISHED.value,
        _not_suspended(entity_type),
    )
    return list(session.scalars(stmt))


def count_published(session: Session, entity_type: str) -> int:
    stmt = select(func.count(func.distinct(ReviewItem.entity_id))).where(
        ReviewItem.entity_type == entity_type,
        ReviewItem.state == State.PUBLISHED.value,
        _not_suspended(entity_type),
    )
    return int(session.scalar(stmt) or 0)


def products_with_valid_certification(session: Session, scheme: str, today: date) -> set[int]:
    stmt = select(ProductCertification.product_id).where(
        ProductCertification.scheme == scheme,
        ProductCertification.valid_from <= today,
        ProductCertification.valid_to >= today,
    )
    return set(session.scalars(stmt))


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


def image_file(session: Session, product_id: int, image_id: int) -> StoredFile | None:
    stmt = (
        select(StoredFile)
        .join(ProductImage, ProductImage.file_id == StoredFile.id)
        .where(ProductImage.id == image_id, ProductImage.product_id == product_id)
    )
    return session.scalars(stmt).first()


def count_rows_if_table(session: Session, name: str) -> int:
    """Rows of a table another module may not have created yet (stamps, scans): 0 without it."""
    if not inspect(session.connection()).has_table(name):
        return 0
    return int(session.scalar(select(func.count()).select_from(table(name))) or 0)
