"""Helpers of the authority tests: principals of each role, stamps on lots, publication."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.models import Organisation, Product, Stamp, StampRequest
from txng.models.base import utcnow
from txng.review import service as review_service

INSPECTOR = Principal(role=Role.INSPECTOR, label="thanh tra", ip_address="10.0.0.7")
AGRI_REVIEWER = Principal(
    role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE, user_id=None
)
HEALTH_REVIEWER = Principal(role=Role.SECTOR_REVIEWER, label="Sở Y tế", sector=Sector.HEALTH)
_codes = itertools.count(1)

StampMaker = Callable[..., list[Stamp]]


def owner(org: Organisation) -> Principal:
    return Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)


def publish(db: Session, org: Organisation, *products: Product) -> None:
    """Publish the organisation profile and the products through review, as in real life."""
    item = review_service.submit_organisation(db, actor=owner(org), organisation_id=org.id)
    review_service.approve(db, actor=f.ADMIN, item_id=item.id)
    for product in products:
        item = review_service.submit_product(db, actor=owner(org), product_id=product.id)
        review_service.approve(db, actor=f.ADMIN, item_id=item.id)


def make_stamps(
    db: Session,
    product: Product,
    *,
    lot: str | None,
    serials: Sequence[str],
    status: str = "active",
) -> list[Stamp]:
    """Stamps as the stamp module leaves them: issued on a request, activated on a lot."""
    request = StampRequest(
        organisation_id=product.organisation_id,
        product_id=product.id,
        lot=lot,
        quantity=len(serials),
        label_template="a4",
        state="issued",
    )
    db.add(request)
    db.flush()
    stamps = [
        Stamp(
            request_id=request.id,
            organisation_id=product.organisation_id,
            product_id=product.id,
            gtin=product.gtin,
            serial=serial,
            short_code=f"T{next(_codes):08d}",
            lot=lot,
            status=status,
            activated_at=utcnow() if status == "active" else None,
        )
        for serial in serials
    ]
    db.add_all(stamps)
    db.flush()
    return stamps
