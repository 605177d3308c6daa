"""The portal's app (its router first, so that it answers "/") and a published world."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role
from txng.app import create_app
from txng.config import Settings
from txng.models import Organisation, Product, ProductCategory
from txng.registry import service as registry_service
from txng.registry.schemas import CategoryIn, ProductIn
from txng.review import service as review_service


@pytest.fixture
def app(settings: Settings, db_session: Session) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


def owner(org: Organisation) -> Principal:
    return Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)


def publish_organisation(db: Session, org: Organisation) -> None:
    """Submit as the enterprise admin, approve (and so publish) as a provincial admin."""
    item = review_service.submit_organisation(db, actor=owner(org), organisation_id=org.id)
    review_service.approve(db, actor=f.ADMIN, item_id=item.id)


def publish_product(db: Session, product: Product) -> None:
    org = registry_service.get_organisation(
        db, actor=f.ADMIN, organisation_id=product.organisation_id
    )
    item = review_service.submit_product(db, actor=owner(org), product_id=product.id)
    review_service.approve(db, actor=f.ADMIN, item_id=item.id)


def product(db: Session, org: Organisation, name: str, **extra: Any) -> Product:
    data = {"gtin": f.gtin13(), "name_vi": name, "sector": "agriculture", **extra}
    return registry_service.create_product(
        db, actor=f.ADMIN, organisation_id=org.id, data=ProductIn.model_validate(data)
    )


def category(db: Session, code: str, name_vi: str, name_en: str, **flags: bool) -> ProductCategory:
    data = CategoryIn.model_validate(
        {"code": code, "name_vi": name_vi, "name_en": name_en, "sector": "agriculture", **flags}
    )
    return registry_service.create_category(db, actor=None, data=data)


def vietgap(valid: bool = True) -> dict[str, str]:
    today = date.today()  # noqa: DTZ011 - a year either side of today, the zone does not matter
    end = today + timedelta(days=365) if valid else today - timedelta(days=30)
    return {
        "scheme": "vietgap",
        "number": "VG-001",
        "issuer": "Trung tâm Chứng nhận",
        "valid_from": (end - timedelta(days=730)).isoformat(),
        "valid_to": end.isoformat(),
    }


@pytest.fixture
def publish() -> Callable[[Session, Product], None]:
    """Publish one more product through the review service (tests cannot import conftest)."""
    return publish_product


@dataclass
class World:
    luc_ngan: Organisation
    kinh_bac: Organisation
    hidden_org: Organisation
    lychee: Product
    noodles: Product
    beans: Product
    draft: Product
    fruit: ProductCategory
    processed: ProductCategory


@pytest.fixture
def world(db_session: Session) -> World:
    """Two published producers in two communes, three published products, one unpublished."""
    db = db_session
    fruit = category(db, "trai-cay", "Trái cây", "Fruit", is_priority=True)
    processed = category(db, "che-bien", "Thực phẩm chế biến", "Processed food", is_mandatory=True)
    luc_ngan = f.organisation(db, name="HTX Vải thiều Lục Ngạn", commune=f.LUC_NGAN)
    kinh_bac = f.organisation(db, name="Công ty Mì Chũ Kinh Bắc", commune=f.KINH_BAC)
    hidden_org = f.organisation(db, name="Hộ kinh doanh Chưa Duyệt")
    lychee = product(
        db,
        luc_ngan,
        "Vải thiều Lục Ngạn",
        name_en="Luc Ngan lychee",
        category_code="trai-cay",
        ocop_stars=4,
        shelf_life_days=10,
        standards=["TCVN 12850:2019"],
        certifications=[vietgap()],
    )
    noodles = product(
        db,
        kinh_bac,
        "Mì Chũ",
        name_en="Chu noodles",
        category_code="che-bien",
        ocop_stars=3,
        certifications=[vietgap(valid=False)],
    )
    beans = product(db, luc_ngan, "Đậu tương rau", category_code="trai-cay")
    draft = product(db, hidden_org, "Vải sấy khô chưa duyệt", ocop_stars=5)
    for org in (luc_ngan, kinh_bac):
        publish_organisation(db, org)
    for p in (lychee, noodles, beans):
        publish_product(db, p)
    # Submitted but not decided: waiting for review is not public.
    review_service.submit_product(db, actor=owner(hidden_org), product_id=draft.id)
    review_service.submit_organisation(db, actor=owner(hidden_org), organisation_id=hidden_org.id)
    db.commit()
    return World(luc_ngan, kinh_bac, hidden_org, lychee, noodles, beans, draft, fruit, processed)
