"""Recalls: the scope from the trace engine reaches every affected stamp, the organisations holding
the goods see it, the public notice shows published facts only, and only the authority recalls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.authority.helpers import HEALTH_REVIEWER, INSPECTOR, make_stamps, owner, publish
from tests.trace import chains

import factories as f
from txng.accounts.roles import Role
from txng.audit import service as audit
from txng.epcis.identifiers import lgtin_dl, sgtin_dl
from txng.errors import Forbidden, ValidationFailed
from txng.kit import i18n
from txng.models import AuditEntry, Product, RecallTarget, Stamp
from txng.recalls import repository as recalls_repository
from txng.recalls import service

SignIn = Callable[[str], tuple[TestClient, dict[str, str]]]
INSTRUCTIONS = "Ngừng sử dụng, mang sản phẩm đến nơi mua để được hoàn tiền."


def _entries(db: Session, *, entity_type: str, entity_id: int) -> list[AuditEntry]:
    db.flush()  # the services add audit entries to the session; the boundary flushes them
    return audit.entries_for(db, entity_type=entity_type, entity_id=entity_id)


def vi(message: str) -> str:
    return i18n.gettext("vi", message)


@dataclass
class Chain:
    world: chains.World
    lychee: chains.Lychee
    harvest_gtin: str
    harvest_stamps: list[Stamp]
    box_stamps: list[Stamp]  # on the downstream lot DG-0612 (made from the harvest)
    other_stamps: list[Stamp]  # on lots the recall does not reach


def _product(db: Session, gtin: str) -> Product:
    found = db.scalars(select(Product).where(Product.gtin == gtin)).one()
    return found


@pytest.fixture
def chain(db_session: Session) -> Chain:
    w = chains.world(db_session)
    ly = chains.lychee(db_session, w)
    harvest_gtin = chains.gtin14(w.farm.prefix, "00001")
    harvest_product = _product(db_session, harvest_gtin)
    box_product = _product(db_session, ly.box_gtin)
    built = Chain(
        world=w,
        lychee=ly,
        harvest_gtin=harvest_gtin,
        harvest_stamps=make_stamps(
            db_session, harvest_product, lot="VT-0610", serials=["H1", "H2"]
        ),
        # "2" is also box 2's serial in the EPCIS events: one target, not two.
        box_stamps=make_stamps(db_session, box_product, lot="DG-0612", serials=["2", "K7", "K8"]),
        other_stamps=[
            *make_stamps(db_session, harvest_product, lot="VT-0611", serials=["H9"]),
            *make_stamps(db_session, box_product, lot="DG-0612B", serials=["101", "K9"]),
        ],
    )
    db_session.commit()
    return built


def _recall(db: Session, c: Chain) -> int:
    recall = service.recall_lot(
        db,
        actor=INSPECTOR,
        gtin=c.harvest_gtin,
        lot="VT-0610",
        reason="Dư lượng thuốc bảo vệ thực vật vượt ngưỡng",
        severity="high",
        instructions_vi=INSTRUCTIONS,
        instructions_en="Stop eating it; bring it back to the shop for a refund.",
    )
    db.commit()
    return recall.id


def test_a_recall_reaches_every_affected_stamp_and_nothing_else(
    db_session: Session, chain: Chain
) -> None:
    recall_id = _recall(db_session, chain)

    for stamp in [*chain.harvest_stamps, *chain.box_stamps]:
        page_idents = [sgtin_dl(stamp.gtin, stamp.serial), lgtin_dl(stamp.gtin, stamp.lot or "")]
        found = recalls_repository.recalls_affecting(db_session, page_idents)
        assert [r.id for r in found] == [recall_id], stamp.serial
        # The item alone is enough: a consumer page that knows no lot still shows it.
        assert recalls_repository.recalls_affecting(
            db_session, [sgtin_dl(stamp.gtin, stamp.serial)]
        )
    for stamp in chain.other_stamps:
        page_idents = [sgtin_dl(stamp.gtin, stamp.serial), lgtin_dl(stamp.gtin, stamp.lot or "")]
        assert recalls_repository.recalls_affecting(db_session, page_idents) == []

    targets = db_session.scalars(
        select(RecallTarget).where(RecallTarget.recall_id == recall_id)
    ).all()
    by_ident = {t.ident: t for t in targets}
    ly, w = chain.lychee, chain.world
    assert by_ident[ly.harvest_lot].kind == "lot"
    assert by_ident[ly.harvest_lot].organisation_id == w.farm.org.id
    assert by_ident[ly.box_lot].kind == "lot"
    assert by_ident[ly.pallet].kind == "logistic_unit"
    assert by_ident[ly.pallet].organisation_id == w.supermarket.org.id  # it last received it
    box_two = chains.dl(ly.boxes[1])
    assert box_two == sgtin_dl(ly.box_gtin, "2")
    assert by_ident[box_two].kind == "item"
    assert by_ident[sgtin_dl(ly.box_gtin, "K7")].kind == "stamp"
    assert {t.organisation_id for t in targets if t.kind == "party"} == {
        w.packer.org.id,
        w.distributor.org.id,
        w.supermarket.org.id,
    }
    [entry] = _entries(db_session, entity_type="recall", entity_id=recall_id)
    assert entry.action == "recall.issued"
    assert entry.after is not None
    assert entry.after["targets"]["stamp"] == 4  # H1, H2, K7, K8 (box 2 counts as an item)


def test_lifting_a_recall_clears_the_consumer_pages(db_session: Session, chain: Chain) -> None:
    recall_id = _recall(db_session, chain)
    stamp = chain.box_stamps[1]
    ident = sgtin_dl(stamp.gtin, stamp.serial)

    service.lift_recall(
        db_session, actor=INSPECTOR, recall_id=recall_id, reason="Kiểm nghiệm lại đạt"
    )

    assert recalls_repository.recalls_affecting(db_session, [ident]) == []
    actions = [e.action for e in _entries(db_session, entity_type="recall", entity_id=recall_id)]
    assert actions == ["recall.issued", "recall.lifted"]


def test_downstream_organisations_see_the_recall_on_their_dashboard(
    db_session: Session, chain: Chain, as_user: SignIn
) -> None:
    w = chain.world
    shop_user = f.user(db_session, role=Role.ENTERPRISE_ADMIN, organisation_id=w.supermarket.org.id)
    outsider = f.user(db_session, role=Role.ENTERPRISE_ADMIN, organisation_id=w.outsider.org.id)
    db_session.commit()
    recall_id = _recall(db_session, chain)

    shop, _ = as_user(shop_user.email)
    notices = shop.get("/thu-hoi")
    assert notices.status_code == 200
    assert f'href="/thu-hoi/{recall_id}"' in notices.text
    assert "VT-0610" in notices.text
    home = shop.get("/")
    assert 'class="alert alert-error recall-notices"' in home.text
    detail = shop.get(f"/thu-hoi/{recall_id}")
    assert detail.status_code == 200
    assert chain.lychee.pallet in detail.text  # what the supermarket holds
    assert chain.lychee.harvest_lot not in detail.text  # the farm's lot is not its business

    other, _ = as_user(outsider.email)
    assert f'href="/thu-hoi/{recall_id}"' not in other.get("/thu-hoi").text
    assert "recall-notices" not in other.get("/").text
    assert other.get(f"/thu-hoi/{recall_id}").status_code == 404


def test_only_the_authority_recalls_and_a_health_reviewer_not_a_farm_lot(
    db_session: Session, chain: Chain
) -> None:
    farm = chain.world.farm.org
    with pytest.raises(Forbidden):
        service.recall_lot(
            db_session,
            actor=owner(farm),
            gtin=chain.harvest_gtin,
            lot="VT-0610",
            reason="x",
            severity="high",
            instructions_vi="x",
        )
    with pytest.raises(ValidationFailed) as caught:
        service.recall_lot(
            db_session,
            actor=HEALTH_REVIEWER,
            gtin=chain.harvest_gtin,
            lot="VT-0610",
            reason="x",
            severity="high",
            instructions_vi="x",
        )
    assert [e.field for e in caught.value.errors] == ["/gtin"]
    assert recalls_repository.recalls(db_session) == []


def test_several_lots_at_once_with_errors_per_line(db_session: Session, chain: Chain) -> None:
    good = service.RecallLine(chain.harvest_gtin, "VT-0610")
    bad_digit = service.RecallLine(chain.harvest_gtin[:-1] + "0", "VT-0611")

    with pytest.raises(ValidationFailed) as caught:
        service.recall_lots(
            db_session,
            actor=INSPECTOR,
            lines=[good, bad_digit, service.RecallLine(chain.lychee.box_gtin, ""), good],
            reason="Nhiễm khuẩn",
            severity="urgent",
            instructions_vi="",
        )

    assert sorted(e.field for e in caught.value.errors) == [
        "/instructions_vi",
        "/lots/1/gtin",
        "/lots/2/lot",
        "/lots/3/lot",
        "/severity",
    ]
    assert recalls_repository.recalls(db_session) == []

    both = service.recall_lots(
        db_session,
        actor=INSPECTOR,
        lines=[good, service.RecallLine(chain.lychee.box_gtin, "DG-0612B")],
        reason="Nhiễm khuẩn",
        severity="medium",
        instructions_vi=INSTRUCTIONS,
    )
    assert [(r.gtin, r.lot) for r in both] == [
        (chain.harvest_gtin, "VT-0610"),
        (chain.lychee.box_gtin, "DG-0612B"),
    ]
    sibling = chain.other_stamps[1]  # box 101 on lot DG-0612B
    found = recalls_repository.recalls_affecting(db_session, [sgtin_dl(sibling.gtin, "101")])
    assert [r.id for r in found] == [both[1].id]
    with pytest.raises(ValidationFailed) as again:
        service.recall_lot(
            db_session,
            actor=INSPECTOR,
            gtin=chain.harvest_gtin,
            lot="VT-0610",
            reason="x",
            severity="low",
            instructions_vi="x",
        )
    assert [(e.field, e.code) for e in again.value.errors] == [("/lot", "conflict")]


def test_the_recall_form_keeps_each_error_on_its_line(
    db_session: Session, chain: Chain, as_user: SignIn
) -> None:
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    c, _ = as_user(inspector.email)
    token = f.csrf_of(c, "/quan-ly/thu-hoi/moi")
    data = {
        "csrf_token": token,
        "gtin_0": chain.harvest_gtin,
        "lot_0": "VT-0610",
        "gtin_2": "8930001000000",  # line 3 (line 2 left empty)
        "lot_2": "VT-0611",
        "severity": "high",
        "reason": "Nhiễm khuẩn",
        "instructions_vi": INSTRUCTIONS,
    }

    refused = c.post("/quan-ly/thu-hoi", data=data)

    assert refused.status_code == 422
    assert 'id="e-gtin_2"' in refused.text
    assert 'id="e-gtin_0"' not in refused.text
    assert 'value="VT-0611"' in refused.text
    assert recalls_repository.recalls(db_session) == []

    data["gtin_2"] = chain.lychee.box_gtin
    data["lot_2"] = "DG-0612B"
    done = c.post("/quan-ly/thu-hoi", data=data, follow_redirects=False)
    assert done.status_code == 303
    register = c.get(done.headers["location"])
    assert vi("%(n)s lots recalled.") % {"n": 2} in register.text
    assert len(recalls_repository.recalls(db_session)) == 2


def test_the_api_recalls_with_problem_pointers(
    client: TestClient, db_session: Session, chain: Chain, as_user: SignIn
) -> None:
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    body = {
        "lots": [{"gtin": chain.harvest_gtin, "lot": "VT-0610"}, {"gtin": "123", "lot": "A"}],
        "reason": "Nhiễm khuẩn",
        "severity": "high",
        "instructions_vi": INSTRUCTIONS,
    }
    refused = client.post(
        "/api/authority/recalls", json=body, headers=f.bearer(chain.world.farm.key)
    )
    assert refused.status_code == 403
    c, csrf = as_user(inspector.email)

    bad = c.post("/api/authority/recalls", json=body, headers=csrf)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/lots/1/gtin"]

    body["lots"] = body["lots"][:1]
    made = c.post("/api/authority/recalls", json=body, headers=csrf)
    assert made.status_code == 201, made.text
    [out] = made.json()
    assert (out["gtin"], out["lot"], out["state"]) == (chain.harvest_gtin, "VT-0610", "active")
    assert out["targets"]["stamp"] == 4
    detail = c.get(f"/api/authority/recalls/{out['id']}", headers=csrf).json()
    assert chain.lychee.pallet in {t["ident"] for t in detail["scope"]}
    lifted = c.post(
        f"/api/authority/recalls/{out['id']}/lift", json={"reason": "Đạt"}, headers=csrf
    )
    assert lifted.json()["state"] == "lifted"
    assert (
        c.post(
            f"/api/authority/recalls/{out['id']}/lift", json={"reason": "Đạt"}, headers=csrf
        ).status_code
        == 409
    )


def test_the_public_notice_shows_published_facts_only(
    client: TestClient, db_session: Session, chain: Chain
) -> None:
    w = chain.world
    box = _product(db_session, chain.lychee.box_gtin)
    publish(db_session, w.packer.org, box)
    db_session.commit()
    service.recall_lots(
        db_session,
        actor=INSPECTOR,
        lines=[
            service.RecallLine(chain.harvest_gtin, "VT-0610"),  # the farm's product: unpublished
            service.RecallLine(chain.lychee.box_gtin, "DG-0612B"),
        ],
        reason="Nhiễm khuẩn Salmonella",
        severity="high",
        instructions_vi=INSTRUCTIONS,
    )
    db_session.commit()

    page = client.get("/thu-hoi-san-pham")

    assert page.status_code == 200
    assert f'<a href="/san-pham/{box.id}">Vải thiều Lục Ngạn hộp 2 kg</a>' in page.text
    assert w.packer.org.name in page.text
    assert "Vải thiều Lục Ngạn tươi (hàng rời)" not in page.text  # not published
    assert chain.harvest_gtin in page.text
    assert INSTRUCTIONS in page.text
    assert 'href="/thu-hoi-san-pham"' in client.get("/").text


def test_the_inspector_lifts_a_recall_from_its_page_with_a_reason(
    db_session: Session, chain: Chain, as_user: SignIn
) -> None:
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    recall_id = _recall(db_session, chain)
    c, _ = as_user(inspector.email)
    page = c.get(f"/thu-hoi/{recall_id}")
    assert page.status_code == 200
    assert f'action="/thu-hoi/{recall_id}/go-bo"' in page.text
    assert chain.lychee.harvest_lot in page.text  # the authority sees the whole scope
    token = f.csrf_of(c, f"/thu-hoi/{recall_id}")

    empty = c.post(f"/thu-hoi/{recall_id}/go-bo", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422
    assert 'id="e-reason"' in empty.text

    done = c.post(
        f"/thu-hoi/{recall_id}/go-bo",
        data={"csrf_token": token, "reason": "Kiểm nghiệm lại đạt"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert vi("The recall is lifted.") in c.get(done.headers["location"]).text
    assert recalls_repository.recalls(db_session, state="active") == []
    assert "VT-0610" not in c.get("/thu-hoi-san-pham").text
