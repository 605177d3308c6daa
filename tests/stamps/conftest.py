"""A small world for stamp tests: two enterprises with a product each, reviewers, and a way to
declare a lot's quantity the way the diary does (a harvest: commissioning ObjectEvent ADD)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.accounts.service import principal_of
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.models import Product
from txng.review import service as review_service
from txng.stamps import service
from txng.stamps.schemas import StampRequestIn

LIMITS = service.Limits(per_request=100_000, per_day=200_000)
AGRI = Principal(role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE)
HEALTH = Principal(role=Role.SECTOR_REVIEWER, label="Sở Y tế", sector=Sector.HEALTH)


@dataclass
class World:
    db: Session
    ent: f.Enterprise
    owner: Principal
    product: Product
    other: f.Enterprise
    other_owner: Principal
    other_product: Product

    def request(self, quantity: int, **kwargs: object) -> int:
        data = StampRequestIn.model_validate(
            {"product_id": self.product.id, "quantity": quantity, **kwargs}
        )
        req = service.request_stamps(self.db, actor=self.owner, data=data, limits=LIMITS)
        return req.id

    def approve(self, request_id: int) -> None:
        item = service.review_item_of(self.db, request_id)
        assert item is not None
        review_service.approve(self.db, actor=AGRI, item_id=item.id)

    def issued(self, quantity: int, **kwargs: object) -> int:
        request_id = self.request(quantity, **kwargs)
        self.approve(request_id)
        return request_id

    def declare_lot(self, lot: str, quantity: int, uom: str = "KGM") -> None:
        """Record the lot's harvest (as the diary does) with its quantity."""
        now = datetime.now(UTC)
        event = {
            "type": "ObjectEvent",
            "eventTime": now.isoformat(),
            "eventTimeZoneOffset": "+07:00",
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "quantityList": [
                {
                    "epcClass": identifiers.lgtin_dl(self.product.gtin, lot),
                    "quantity": quantity,
                    "uom": uom,
                }
            ],
            "ilmd": {"cbvmda:lotNumber": lot},
        }
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": now.isoformat(),
            "epcisBody": {"eventList": [event]},
        }
        outcome = capture_service.capture(self.db, self.owner, document)
        assert not outcome.errors, outcome.errors


@pytest.fixture
def world(db_session: Session) -> World:
    ent = f.enterprise(db_session)
    other = f.enterprise(db_session, name="HTX Mì Chũ")
    product = f.product(db_session, organisation_id=ent.org.id, name="Vải thiều tươi Lục Ngạn")
    product.units_per_stamp = 5
    other_product = f.product(db_session, organisation_id=other.org.id, name="Mì Chũ")
    db_session.flush()
    return World(
        db_session,
        ent,
        principal_of(ent.admin),
        product,
        other,
        principal_of(other.admin),
        other_product,
    )


DeclareLot = Callable[[str, int], None]
