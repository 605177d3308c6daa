"""The demo data set: what a province demo shows must be valid, consistent and usable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts import service as accounts_service
from txng.accounts.roles import Role, Sector
from txng.demo.data import DemoResult, load_demo
from txng.kit.adminunits import admin_units
from txng.kit.gs1 import normalize_gln, normalize_gtin
from txng.kit.taxcode import normalize_tax_code
from txng.models import Facility, Organisation, Product, ProductCategory, User
from txng.registry import service as registry_service


@pytest.fixture
def demo(db_session: Session) -> DemoResult:
    result = load_demo(db_session)
    db_session.flush()
    return result


def _product(session: Session, name_prefix: str) -> Product:
    return session.scalars(select(Product).where(Product.name_vi.startswith(name_prefix))).one()


def test_every_role_has_a_login_that_signs_in(db_session: Session, demo: DemoResult) -> None:
    assert {login.role for login in demo.logins} == {role.value for role in Role}
    assert len({login.email for login in demo.logins}) == len(demo.logins)
    for login in demo.logins:
        assert len(login.password) >= accounts_service.MIN_PASSWORD_LENGTH
        user = accounts_service.authenticate(db_session, email=login.email, password=login.password)
        assert user.role == login.role
        assert user.full_name == login.full_name
    reviewers = db_session.scalars(select(User).where(User.role == Role.SECTOR_REVIEWER)).all()
    assert {u.sector for u in reviewers} == {s.value for s in Sector}
    officer = db_session.scalars(select(User).where(User.role == Role.COMMUNE_OFFICER)).one()
    assert officer.communes == ["07525", "07582"]


def test_registry_keys_and_tax_codes_are_valid(db_session: Session, demo: DemoResult) -> None:
    organisations = db_session.scalars(select(Organisation)).all()
    assert len(organisations) >= 6
    prefixes = {o.id: o.gs1_company_prefix for o in organisations}
    for org in organisations:
        assert normalize_tax_code(org.tax_code) == org.tax_code
        assert org.gs1_company_prefix is not None
        assert org.gs1_company_prefix.startswith("893")
        assert org.gln is not None
        assert normalize_gln(org.gln) == org.gln
        assert org.gln.startswith(org.gs1_company_prefix)
    for facility in db_session.scalars(select(Facility)):
        if facility.gln is not None:
            assert normalize_gln(facility.gln) == facility.gln
            assert facility.gln.startswith(prefixes[facility.organisation_id] or "")
    products = db_session.scalars(select(Product)).all()
    assert products
    for product in products:
        assert normalize_gtin(product.gtin) == product.gtin
        assert product.gtin[1:].startswith(prefixes[product.organisation_id] or "")


def test_every_commune_is_a_real_commune_of_bac_ninh(db_session: Session, demo: DemoResult) -> None:
    units = admin_units()
    used = {o.commune_code for o in db_session.scalars(select(Organisation))}
    used |= {f.commune_code for f in db_session.scalars(select(Facility))}
    for user in db_session.scalars(select(User)):
        used |= set(user.communes or ())
    assert {"07582", "07525", "07288"} <= used
    for code in used:
        assert code in units.communes, code
        assert units.communes[code].province_code == "24", code
    for facility in db_session.scalars(select(Facility)):
        assert facility.province_code == "24"
        commune = units.communes[facility.commune_code]
        assert facility.latitude is not None
        assert facility.longitude is not None
        assert commune.latitude is not None
        assert commune.longitude is not None
        assert abs(facility.latitude - commune.latitude) < 0.05
        assert abs(facility.longitude - commune.longitude) < 0.05


def test_showcase_products(db_session: Session, demo: DemoResult) -> None:
    categories = db_session.scalars(select(ProductCategory)).all()
    assert len(categories) >= 8
    assert {c.sector for c in categories} == {s.value for s in Sector}
    growing_areas = db_session.scalars(select(Facility).where(Facility.kind == "growing_area"))
    assert all(f.growing_area_code and f.commune_code == "07582" for f in growing_areas)

    lychee = _product(db_session, "Vải thiều Lục Ngạn")
    today = datetime.now(UTC).date()
    (shown,) = registry_service.products_out(db_session, [lychee], today=today)
    assert shown.geographical_indication == "Vải thiều Lục Ngạn"
    vietgap = [c for c in shown.certifications if c.scheme == "vietgap"]
    assert vietgap
    assert all(c.valid_now for c in vietgap)

    assert _product(db_session, "Gà đồi Yên Thế").geographical_indication == "Gà đồi Yên Thế"
    assert _product(db_session, "Mì Chũ –").ocop_stars == 4


def test_api_keys_act_for_their_organisation(db_session: Session, demo: DemoResult) -> None:
    names = {o.id: o.name for o in db_session.scalars(select(Organisation))}
    assert len(demo.api_keys) == len(names)
    for org_name, key in demo.api_keys:
        principal = accounts_service.principal_for_api_key(db_session, key=key)
        assert principal is not None
        assert principal.organisation_id is not None
        assert names[principal.organisation_id] == org_name
