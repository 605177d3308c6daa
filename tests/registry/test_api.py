"""The registry's JSON API: field-level problem documents, uploads, and who sees what."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role, Sector
from txng.models import AuditEntry, Product, StoredFile

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def _product(gtin: str, **extra: object) -> dict[str, object]:
    return {"gtin": gtin, "name_vi": "Vải thiều Lục Ngạn", "sector": "agriculture", **extra}


def test_product_is_declared_with_certificates_and_stored_as_gtin14(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    gtin = f.gtin13()
    body = _product(
        gtin,
        net_content="1.5",
        net_content_unit="kg",
        shelf_life_days=20,
        ocop_stars=4,
        standards=["VietGAP", "QCVN 8-2:2011/BYT"],
        certifications=[
            {
                "scheme": "vietgap",
                "number": "VG-24-0012",
                "issuer": "Trung tâm Chứng nhận",
                "valid_from": "2026-01-01",
                "valid_to": "2028-12-31",
            }
        ],
    )
    created = client.post(
        f"/api/v1/organisations/{ent.org.id}/products", json=body, headers=f.bearer(ent.key)
    )
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["gtin"] == "0" + gtin
    assert out["certifications"][0]["scheme"] == "vietgap"
    assert out["ocop_stars"] == 4
    fetched = client.get(f"/api/v1/products/{out['id']}", headers=f.bearer(ent.key)).json()
    assert fetched["standards"] == ["VietGAP", "QCVN 8-2:2011/BYT"]
    audit = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "product", AuditEntry.action == "product.created"
        )
    ).one()
    assert audit.actor_api_key_id is not None
    assert audit.after["gtin"] == "0" + gtin


def test_bad_gtin_check_digit_is_a_field_error_in_the_callers_language(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    gtin = f.gtin13()
    bad = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    url = f"/api/v1/organisations/{ent.org.id}/products"
    vi = client.post(url, json=_product(bad), headers=f.bearer(ent.key))
    assert vi.status_code == 422
    assert vi.headers["content-type"] == "application/problem+json"
    problem = vi.json()
    assert problem["errors"][0]["pointer"] == "/gtin"
    assert gtin[-1] in problem["errors"][0]["detail"]
    en = client.post(
        url, json=_product(bad), headers={**f.bearer(ent.key), "Accept-Language": "en"}
    )
    assert en.json()["errors"][0]["detail"] == f"Wrong GTIN check digit: expected {gtin[-1]}"
    assert vi.json()["errors"][0]["detail"] != en.json()["errors"][0]["detail"]
    assert db_session.scalar(select(Product.id)) is None


def test_every_invalid_field_is_reported_at_once(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    body = _product(
        "123", ocop_stars=7, certifications=[{"scheme": "vietgap", "number": "1", "issuer": "X"}]
    )
    response = client.post(
        f"/api/v1/organisations/{ent.org.id}/products", json=body, headers=f.bearer(ent.key)
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/ocop_stars", "/certifications/0/issuer", "/certifications/0/valid_from"} <= pointers


def test_organisation_registration_validates_tax_code_and_commune(
    client: TestClient, db_session: Session
) -> None:
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    f.login(client, admin.email)
    csrf = {"X-CSRF-Token": client.cookies["txng_csrf"]}
    body = {
        "kind": "cooperative",
        "name": "HTX Rau an toàn",
        "tax_code": "0100109107",
        "sector": "agriculture",
        "province_code": "24",
        "commune_code": "99999",
    }
    response = client.post("/api/v1/organisations", json=body, headers=csrf)
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/tax_code", "/commune_code"}
    body.update(tax_code="0100109106", commune_code="07582")
    assert client.post("/api/v1/organisations", json=body, headers=csrf).status_code == 201
    # The Hà Nội commune "Phường Ba Đình" (00004) is not in Bắc Ninh (24).
    body.update(tax_code=f.tax_code(), commune_code="00004")
    outside = client.post("/api/v1/organisations", json=body, headers=csrf)
    assert outside.json()["errors"][0]["code"] == "commune_outside_province"
    assert client.post("/api/v1/organisations", json=body).status_code == 403  # no CSRF header


def test_images_are_checked_for_size_and_type_and_served_back(
    client: TestClient, db_session: Session, settings
) -> None:
    ent = f.enterprise(db_session)
    product = f.product(db_session, organisation_id=ent.org.id)
    db_session.commit()
    url = f"/api/v1/products/{product.id}/images"
    too_big = PNG + b"\0" * settings.max_image_bytes
    response = client.post(
        url, files={"image": ("a.png", too_big, "image/png")}, headers=f.bearer(ent.key)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "pointer": "/image",
        "code": "too_large",
        "detail": response.json()["errors"][0]["detail"],
    }
    fake = client.post(
        url, files={"image": ("a.png", b"GIF89a....", "image/png")}, headers=f.bearer(ent.key)
    )
    assert fake.json()["errors"][0]["code"] == "bad_type"
    assert db_session.scalar(select(StoredFile.id)) is None
    ok = client.post(url, files={"image": ("a.png", PNG, "image/png")}, headers=f.bearer(ent.key))
    assert ok.status_code == 201
    image_url = ok.json()["images"][0]["url"]
    served = client.get(image_url, headers=f.bearer(ent.key))
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"


def test_an_enterprise_never_sees_or_changes_another_enterprises_data(
    client: TestClient, db_session: Session
) -> None:
    a = f.enterprise(db_session, name="HTX A")
    b = f.enterprise(db_session, name="HTX B")
    b_product = f.product(db_session, organisation_id=b.org.id, name="Gà đồi")
    db_session.commit()
    key = f.bearer(a.key)
    assert client.get(f"/api/v1/products/{b_product.id}", headers=key).status_code == 404
    assert client.get(f"/api/v1/organisations/{b.org.id}", headers=key).status_code == 404
    put = client.put(f"/api/v1/products/{b_product.id}", json=_product(f.gtin13()), headers=key)
    assert put.status_code == 404
    post = client.post(
        f"/api/v1/organisations/{b.org.id}/products", json=_product(f.gtin13()), headers=key
    )
    assert post.status_code == 404
    listed = client.get("/api/v1/products", headers=key).json()
    assert listed["total"] == 0
    orgs = client.get("/api/v1/organisations", headers=key).json()
    assert [o["id"] for o in orgs["items"]] == [a.org.id]
    db_session.expire_all()
    assert db_session.get(Product, b_product.id).name_vi == "Gà đồi"


def test_sector_reviewer_and_commune_officer_see_only_their_scope(
    client: TestClient, app, db_session: Session
) -> None:
    farm = f.enterprise(db_session, name="HTX Lục Ngạn", commune=f.LUC_NGAN)
    shop = f.enterprise(
        db_session, name="Siêu thị Kinh Bắc", commune=f.KINH_BAC, sector=Sector.INDUSTRY_TRADE
    )
    lychee = f.product(db_session, organisation_id=farm.org.id, name="Vải thiều")
    noodles = f.product(
        db_session, organisation_id=shop.org.id, name="Mì Chũ", sector=Sector.INDUSTRY_TRADE
    )
    agri = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE)
    health = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.HEALTH)
    commune = f.user(db_session, role=Role.COMMUNE_OFFICER, communes=(f.KINH_BAC,))
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()

    def visible(email: str) -> set[int]:
        c = TestClient(app)
        f.login(c, email)
        assert c.get(f"/api/v1/products/{lychee.id}").status_code in (200, 404)
        return {p["id"] for p in c.get("/api/v1/products").json()["items"]}

    assert visible(agri.email) == {lychee.id}
    assert visible(health.email) == set()
    assert visible(commune.email) == {noodles.id}
    assert visible(inspector.email) == {lychee.id, noodles.id}
    c = TestClient(app)
    f.login(c, health.email)
    assert c.get(f"/api/v1/products/{lychee.id}").status_code == 404
    assert "Vải thiều" not in c.get("/registry/products").text


def test_absurd_ids_and_pages_are_422_not_500(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    key = f.bearer(ent.key)
    huge = "99999999999999999999"
    assert client.get(f"/api/v1/products/{huge}", headers=key).status_code == 422
    assert client.get(f"/api/v1/products?page={huge}", headers=key).status_code == 422
    assert client.get(f"/api/v1/products?organisation_id={huge}", headers=key).status_code == 422
    assert client.get("/api/v1/products/0", headers=key).status_code == 422


def test_search_treats_percent_and_underscore_literally(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    f.product(db_session, organisation_id=ent.org.id, name="Mật ong 100% hoa vải")
    f.product(db_session, organisation_id=ent.org.id, name="Mật ong rừng")
    db_session.commit()
    key = f.bearer(ent.key)
    found = client.get("/api/v1/products", params={"q": "100%"}, headers=key).json()
    assert [p["name_vi"] for p in found["items"]] == ["Mật ong 100% hoa vải"]
    assert client.get("/api/v1/products", params={"q": "%"}, headers=key).json()["total"] == 1
    assert client.get("/api/v1/products", params={"q": "_"}, headers=key).json()["total"] == 0


def test_an_oversize_body_is_refused_before_it_is_read(
    client: TestClient, db_session: Session, settings
) -> None:
    ent = f.enterprise(db_session)
    product = f.product(db_session, organisation_id=ent.org.id)
    db_session.commit()
    huge = PNG + b"\0" * (settings.max_document_bytes + 512 * 1024)
    response = client.post(
        f"/api/v1/products/{product.id}/images",
        files={"image": ("a.png", huge, "image/png")},
        headers=f.bearer(ent.key),
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert db_session.scalar(select(StoredFile.id)) is None
