"""Suspending and reinstating organisations, products and stamps: who may, what the public sees,
what the audit log keeps."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.authority.helpers import (
    AGRI_REVIEWER,
    HEALTH_REVIEWER,
    INSPECTOR,
    make_stamps,
    owner,
    publish,
)

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.audit import service as audit
from txng.authority import service
from txng.authority.exceptions import AlreadyInState, NothingToChange
from txng.errors import Forbidden, NotFound, ValidationFailed
from txng.kit import i18n
from txng.models import AuditEntry

SignIn = Callable[[str], tuple[TestClient, dict[str, str]]]


def _entries(db: Session, *, entity_type: str, entity_id: int) -> list[AuditEntry]:
    db.flush()  # the services add audit entries to the session; the boundary flushes them
    return audit.entries_for(db, entity_type=entity_type, entity_id=entity_id)


def vi(message: str) -> str:
    return i18n.gettext("vi", message)


def test_a_suspended_product_leaves_the_portal_until_reinstated(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session, name="HTX Nông sản Tân Yên")
    lychee = f.product(db_session, organisation_id=ent.org.id, name="Vải thiều Phì Điền")
    publish(db_session, ent.org, lychee)
    db_session.commit()
    assert client.get(f"/san-pham/{lychee.id}").status_code == 200
    assert "Vải thiều Phì Điền" in client.get("/san-pham?q=vai thieu").text

    service.suspend_product(
        db_session, actor=INSPECTOR, product_id=lychee.id, reason="Dư lượng thuốc BVTV vượt ngưỡng"
    )
    db_session.commit()

    assert lychee.status == "suspended"
    assert client.get(f"/san-pham/{lychee.id}").status_code == 404
    assert "Vải thiều Phì Điền" not in client.get("/san-pham?q=vai thieu").text
    assert "Vải thiều Phì Điền" not in client.get(f"/co-so/{ent.org.id}").text
    [entry] = _entries(db_session, entity_type="product", entity_id=lychee.id)[-1:]
    assert entry.action == "authority.product_suspended"
    assert entry.actor_label == "thanh tra"
    assert entry.ip_address == "10.0.0.7"
    assert entry.before == {"status": "active"}
    assert entry.after is not None
    assert entry.after["status"] == "suspended"
    assert entry.after["reason"] == "Dư lượng thuốc BVTV vượt ngưỡng"

    service.reinstate_product(
        db_session, actor=INSPECTOR, product_id=lychee.id, reason="Kết quả kiểm nghiệm lại đạt"
    )
    db_session.commit()
    assert client.get(f"/san-pham/{lychee.id}").status_code == 200
    actions = [e.action for e in _entries(db_session, entity_type="product", entity_id=lychee.id)]
    assert actions[-2:] == ["authority.product_suspended", "authority.product_reinstated"]


def test_a_suspended_organisation_takes_its_profile_and_products_off_the_portal(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session, name="HTX Mì Chũ")
    noodles = f.product(db_session, organisation_id=ent.org.id, name="Mì Chũ")
    publish(db_session, ent.org, noodles)
    db_session.commit()
    assert "HTX Mì Chũ" in client.get("/co-so").text

    service.suspend_organisation(
        db_session, actor=f.ADMIN, organisation_id=ent.org.id, reason="Giả mạo hồ sơ"
    )
    db_session.commit()

    assert client.get(f"/co-so/{ent.org.id}").status_code == 404
    assert "HTX Mì Chũ" not in client.get("/co-so").text
    assert client.get(f"/san-pham/{noodles.id}").status_code == 404
    assert noodles.status == "active"  # its own status is untouched: reinstating restores all
    with pytest.raises(AlreadyInState):
        service.suspend_organisation(
            db_session, actor=f.ADMIN, organisation_id=ent.org.id, reason="lần nữa"
        )
    service.reinstate_organisation(
        db_session, actor=f.ADMIN, organisation_id=ent.org.id, reason="Đã bổ sung hồ sơ"
    )
    db_session.commit()
    assert client.get(f"/san-pham/{noodles.id}").status_code == 200


def test_only_the_authority_acts_and_a_sector_reviewer_only_in_their_sector(
    db_session: Session,
) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id, sector=Sector.AGRICULTURE)
    commune = Principal(role=Role.COMMUNE_OFFICER, label="UBND xã", communes=frozenset({"07582"}))

    for refused in (owner(ent.org), commune):
        with pytest.raises(Forbidden):
            service.suspend_product(db_session, actor=refused, product_id=lychee.id, reason="x")
        with pytest.raises(Forbidden):
            service.suspend_organisation(
                db_session, actor=refused, organisation_id=ent.org.id, reason="x"
            )
    with pytest.raises(NotFound):  # another sector's product is not even visible
        service.suspend_product(db_session, actor=HEALTH_REVIEWER, product_id=lychee.id, reason="x")
    with pytest.raises(NotFound):
        service.suspend_organisation(
            db_session, actor=HEALTH_REVIEWER, organisation_id=ent.org.id, reason="x"
        )
    # With a health product the organisation becomes visible to Health, not theirs to suspend.
    f.product(db_session, organisation_id=ent.org.id, name="Nước ép vải", sector=Sector.HEALTH)
    with pytest.raises(Forbidden):
        service.suspend_organisation(
            db_session, actor=HEALTH_REVIEWER, organisation_id=ent.org.id, reason="x"
        )
    assert (lychee.status, ent.org.status) == ("active", "active")

    service.suspend_product(db_session, actor=AGRI_REVIEWER, product_id=lychee.id, reason="x")
    assert lychee.status == "suspended"


def test_a_reason_is_required(db_session: Session) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id)

    with pytest.raises(ValidationFailed) as caught:
        service.suspend_product(db_session, actor=INSPECTOR, product_id=lychee.id, reason="  ")

    assert [e.field for e in caught.value.errors] == ["/reason"]
    assert lychee.status == "active"


def test_stamps_are_suspended_by_lot_list_or_range_and_reinstated_to_what_they_were(
    db_session: Session,
) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id)
    on_lot = make_stamps(db_session, lychee, lot="VT-01", serials=["A1", "A2", "A3"])
    loose = make_stamps(db_session, lychee, lot=None, serials=["B1", "B2", "B3"], status="issued")
    other_lot = make_stamps(db_session, lychee, lot="VT-02", serials=["C1"])

    by_lot = service.suspend_stamps(
        db_session,
        actor=INSPECTOR,
        product_id=lychee.id,
        selection=service.StampSelection(lot="VT-01"),
        reason="Tem nghi giả",
    )
    assert [s.serial for s in by_lot.changed] == ["A1", "A2", "A3"]
    assert {s.status for s in on_lot} == {"suspended"}
    assert on_lot[0].status_reason == "Tem nghi giả"
    assert other_lot[0].status == "active"

    by_range = service.suspend_stamps(
        db_session,
        actor=INSPECTOR,
        product_id=lychee.id,
        selection=service.StampSelection(first=loose[0].short_code, last="B2"),
        reason="Mất tem",
    )
    assert [s.serial for s in by_range.changed] == ["B1", "B2"]
    assert loose[2].status == "issued"

    back = service.reinstate_stamps(
        db_session,
        actor=INSPECTOR,
        product_id=lychee.id,
        selection=service.StampSelection(codes=["A1", "B1", "B3"]),
        reason="Đã xác minh",
    )
    assert [s.serial for s in back.changed] == ["A1", "B1"]
    assert [s.serial for s in back.skipped] == ["B3"]
    assert (on_lot[0].status, loose[0].status) == ("active", "issued")
    assert on_lot[0].status_reason is None
    [entry] = _entries(db_session, entity_type="product", entity_id=lychee.id)[-1:]
    assert entry.action == "authority.stamps_reinstated"
    assert entry.after is not None
    assert entry.after["serials"] == ["A1", "B1"]
    assert entry.before == {"statuses": {"A1": "suspended", "B1": "suspended"}}

    with pytest.raises(NothingToChange):
        service.reinstate_stamps(
            db_session,
            actor=INSPECTOR,
            product_id=lychee.id,
            selection=service.StampSelection(codes=["C1"]),
            reason="x",
        )
    with pytest.raises(ValidationFailed) as caught:
        service.suspend_stamps(
            db_session,
            actor=INSPECTOR,
            product_id=lychee.id,
            selection=service.StampSelection(codes=["A1", "ZZZ"]),
            reason="x",
        )
    assert [(e.field, e.params) for e in caught.value.errors] == [("/codes", {"codes": "ZZZ"})]


def test_the_api_refuses_an_enterprise_and_explains_a_missing_reason(
    client: TestClient, db_session: Session, as_user: SignIn
) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id)
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()

    refused = client.post(
        f"/api/authority/products/{lychee.id}/suspend",
        json={"reason": "tự đình chỉ"},
        headers=f.bearer(ent.key),
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    c, csrf = as_user(inspector.email)
    empty = c.post(
        f"/api/authority/products/{lychee.id}/suspend", json={"reason": ""}, headers=csrf
    )
    assert empty.status_code == 422
    assert [e["pointer"] for e in empty.json()["errors"]] == ["/reason"]

    done = c.post(
        f"/api/authority/products/{lychee.id}/suspend", json={"reason": "Vi phạm"}, headers=csrf
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"id": lychee.id, "status": "suspended"}
    again = c.post(
        f"/api/authority/products/{lychee.id}/suspend", json={"reason": "Vi phạm"}, headers=csrf
    )
    assert again.status_code == 409


def test_the_actions_page_shows_errors_next_to_the_field_and_suspends(
    db_session: Session, as_user: SignIn
) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id)
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    c, _ = as_user(inspector.email)
    page = c.get("/quan-ly")
    assert page.status_code == 200
    assert vi("Authority actions") in page.text
    token = f.csrf_of(c, "/quan-ly")

    missing = c.post(
        "/quan-ly/dinh-chi/product",
        data={"csrf_token": token, "gtin": lychee.gtin, "reason": "", "action": "suspend"},
    )
    assert missing.status_code == 422
    assert 'id="e-product-reason"' in missing.text
    assert vi("Give the reason for this decision") in missing.text
    assert f'value="{lychee.gtin}"' in missing.text  # what was typed stays

    unknown = c.post(
        "/quan-ly/dinh-chi/product",
        data={"csrf_token": token, "gtin": "8930001000001", "reason": "x", "action": "suspend"},
    )
    assert unknown.status_code == 422
    assert 'id="e-product-gtin"' in unknown.text

    done = c.post(
        "/quan-ly/dinh-chi/product",
        data={"csrf_token": token, "gtin": lychee.gtin, "reason": "Vi phạm", "action": "suspend"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db_session.expire_all()
    assert lychee.status == "suspended"

    no_csrf = c.post(
        "/quan-ly/dinh-chi/organisation",
        data={"tax_code": ent.org.tax_code, "reason": "x", "action": "suspend"},
    )
    assert no_csrf.status_code == 403


def test_an_enterprise_user_gets_no_actions_page(db_session: Session, as_user: SignIn) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    c, _ = as_user(ent.admin.email)

    assert c.get("/quan-ly").status_code == 403
    assert vi("Authority actions") not in c.get("/thu-hoi").text
