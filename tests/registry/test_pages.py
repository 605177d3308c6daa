"""Enterprise users manage their facilities and products through the pages."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.models import Facility, Product, ProductCertification


def _signed_in(client: TestClient, db_session: Session) -> f.Enterprise:
    ent = f.enterprise(db_session)
    db_session.commit()
    f.login(client, ent.admin.email)
    return ent


def test_product_form_shows_the_gtin_error_next_to_the_field_and_keeps_the_input(
    client: TestClient, db_session: Session
) -> None:
    _signed_in(client, db_session)
    token = f.csrf_of(client, "/my/products/new")
    gtin = f.gtin13()
    bad = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    response = client.post(
        "/my/products/new",
        data={
            "csrf_token": token,
            "gtin": bad,
            "name_vi": "Vải thiều loại 1",
            "sector": "agriculture",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'aria-invalid="true" aria-describedby="e-gtin"' in html
    error = html.split('id="e-gtin"')[1].split("</p>")[0]
    assert gtin[-1] in error
    assert 'value="Vải thiều loại 1"' in html
    assert db_session.scalar(select(Product.id)) is None


def test_product_with_certificate_is_saved_from_the_form(
    client: TestClient, db_session: Session
) -> None:
    ent = _signed_in(client, db_session)
    token = f.csrf_of(client, "/my/products/new")
    gtin = f.gtin13()
    response = client.post(
        "/my/products/new",
        data={
            "csrf_token": token,
            "gtin": gtin,
            "name_vi": "Vải thiều Lục Ngạn",
            "sector": "agriculture",
            "net_content": "2,5",
            "net_content_unit": "kg",
            "standards": "VietGAP\nQCVN 8-1:2011/BYT",
            "cert-0-scheme": "vietgap",
            "cert-0-number": "VG-01",
            "cert-0-issuer": "QUACERT",
            "cert-0-valid_from": "2026-01-01",
            "cert-0-valid_to": "2027-12-31",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    product = db_session.scalars(select(Product).where(Product.organisation_id == ent.org.id)).one()
    assert product.gtin == "0" + gtin
    assert str(product.net_content) in ("2.5", "2.500")
    assert product.standards == ["VietGAP", "QCVN 8-1:2011/BYT"]
    cert = db_session.scalars(select(ProductCertification)).one()
    assert cert.number == "VG-01"
    page = client.get(response.headers["location"]).text
    assert 'value="VG-01"' in page
    assert "VietGAP" in page


def test_growing_area_needs_its_code_and_gets_a_location_code(
    client: TestClient, db_session: Session
) -> None:
    ent = _signed_in(client, db_session)
    token = f.csrf_of(client, "/my/facilities/new")
    base = {
        "csrf_token": token,
        "kind": "growing_area",
        "name": "Vùng vải Đồi Cao",
        "province_code": "24",
        "commune_code": f.LUC_NGAN,
        "latitude": "21,38",
    }
    response = client.post("/my/facilities/new", data=base)
    assert response.status_code == 422
    assert 'id="e-growing_area_code"' in response.text
    assert 'id="e-longitude"' in response.text
    ok = client.post(
        "/my/facilities/new",
        data={**base, "growing_area_code": "VN-BNOR-0199", "longitude": "106,68"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    facility = db_session.scalars(
        select(Facility).where(Facility.organisation_id == ent.org.id)
    ).one()
    assert facility.location_code.startswith("VN07582-")
    assert abs(facility.latitude - 21.38) < 1e-9
    assert "Vùng vải Đồi Cao" in client.get("/my/facilities").text


def test_business_registration_upload_refuses_executables(
    client: TestClient, db_session: Session
) -> None:
    _signed_in(client, db_session)
    token = f.csrf_of(client, "/my/organisation")
    bad = client.post(
        "/my/organisation/business-registration",
        data={"csrf_token": token},
        files={"file": ("gpkd.pdf", b"MZ\x90\x00" * 10, "application/pdf")},
    )
    assert bad.status_code == 422
    assert 'id="e-file"' in bad.text
    good = client.post(
        "/my/organisation/business-registration",
        data={"csrf_token": token},
        files={"file": ("gpkd.pdf", b"%PDF-1.4\n%...\n", "application/pdf")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert "/business-registration" in client.get("/my/organisation").text


def test_organisation_profile_edit_validates_tax_code(
    client: TestClient, db_session: Session
) -> None:
    ent = _signed_in(client, db_session)
    token = f.csrf_of(client, "/my/organisation")
    form = {
        "csrf_token": token,
        "kind": "cooperative",
        "name": ent.org.name,
        "tax_code": ent.org.tax_code,
        "sector": "agriculture",
        "province_code": "24",
        "commune_code": f.LUC_NGAN,
        "gln": "8934567000001",
        "phone": "0204 3882 123",
    }
    response = client.post("/my/organisation", data=form)
    assert response.status_code == 422
    assert 'id="e-gln"' in response.text
    form["gln"] = "8934567000000"
    assert client.post("/my/organisation", data=form, follow_redirects=False).status_code == 303
    assert 'value="0204 3882 123"' in client.get("/my/organisation").text
