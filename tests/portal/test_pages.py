"""The public pages over HTTP: published data only, Vietnamese by default, accessible basics."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role
from txng.registry import service as registry_service
from txng.registry.schemas import ProductIn

PAGES = ("/", "/san-pham", "/san-pham?q=vai+thieu&ocop=4")


class _Outline(HTMLParser):
    """What the accessibility checks need: the lang, the h1s, the form controls, the labels."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.h1 = 0
        self.controls: list[str | None] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a.get("id"))


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def _product_links(html: str) -> list[str]:
    return re.findall(r'<a href="/san-pham/\d+">([^<]+)</a>', html)


def test_home_shows_live_figures_of_published_data(client: TestClient, world: Any) -> None:
    html = client.get("/").text
    figures = re.findall(r"<dt>[^<]+</dt><dd>([^<]+)</dd>", html)
    # organisations, products, OCOP products, stamps, scans
    assert figures == ["2", "3", "2", "0", "0"]
    assert _product_links(html) == ["Vải thiều Lục Ngạn", "Mì Chũ"]  # featured OCOP, 4★ first
    assert "chưa duyệt" not in html.lower()
    assert 'action="/san-pham"' in html


def test_signed_in_users_still_see_their_links(
    client: TestClient, db_session: Session, world: Any
) -> None:
    admin = f.user(db_session, role=Role.ENTERPRISE_ADMIN, organisation_id=world.luc_ngan.id)
    db_session.commit()
    f.login(client, admin.email)
    html = client.get("/").text
    assert 'href="/my/products"' in html
    assert 'href="/logout"' in html or 'action="/logout"' in html


@pytest.mark.parametrize("q", ["vai thieu", "VAI THIEU", "Vải Thiều"])
def test_search_page_finds_without_diacritics(client: TestClient, world: Any, q: str) -> None:
    response = client.get("/san-pham", params={"q": q})
    assert response.status_code == 200
    assert _product_links(response.text)[0] == "Vải thiều Lục Ngạn"


def test_search_page_filters(client: TestClient, world: Any) -> None:
    def names(**params: Any) -> list[str]:
        return _product_links(client.get("/san-pham", params=params).text)

    assert names(q="mi chu") == ["Mì Chũ"]
    assert names(q="dau") == ["Đậu tương rau"]
    assert names(commune=f.KINH_BAC) == ["Mì Chũ"]
    assert names(category=world.processed.id) == ["Mì Chũ"]
    assert names(cert="vietgap") == ["Vải thiều Lục Ngạn"]
    assert names(ocop="3") == ["Mì Chũ"]
    assert names(ocop="any") == ["Mì Chũ", "Vải thiều Lục Ngạn"]
    # Nonsense in a public form is ignored, never a 422.
    assert len(names(category="abc", ocop="9", cert="nope", page="x")) == 3


def test_product_page_from_the_published_snapshot(client: TestClient, world: Any) -> None:
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert "<h1>Vải thiều Lục Ngạn</h1>" in html
    assert f'href="/co-so/{world.luc_ngan.id}"' in html
    assert "VietGAP" in html
    assert "TCVN 12850:2019" in html
    assert re.search(r"\b\d{2}/\d{2}/\d{4}\b", html)  # dates as dd/mm/yyyy
    assert 'aria-label="4' in html  # OCOP stars announced, not only drawn


def test_unpublished_product_and_producer_are_404(client: TestClient, world: Any) -> None:
    assert client.get(f"/san-pham/{world.draft.id}").status_code == 404
    assert client.get(f"/co-so/{world.hidden_org.id}").status_code == 404
    assert client.get("/san-pham/999999").status_code == 404
    assert client.get(f"/san-pham/{world.draft.id}/anh/1").status_code == 404


def test_producer_page(client: TestClient, world: Any) -> None:
    html = client.get(f"/co-so/{world.luc_ngan.id}").text
    assert "<h1>HTX Vải thiều Lục Ngạn</h1>" in html
    assert _product_links(html) == ["Đậu tương rau", "Vải thiều Lục Ngạn"]
    assert "Lục Ngạn" in html


def test_catalog_page(client: TestClient, world: Any) -> None:
    html = client.get("/danh-muc").text
    assert "Trái cây" in html
    assert "Thực phẩm chế biến" in html
    assert f"/san-pham?category={world.fruit.id}" in html


def test_english_switch(client: TestClient, world: Any) -> None:
    response = client.get("/lang/en", params={"next": "/san-pham"}, follow_redirects=True)
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Search products" in response.text
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert "<h1>Luc Ngan lychee</h1>" in html
    assert "Certifications" in html


@pytest.mark.parametrize("path", PAGES)
def test_accessibility_basics(client: TestClient, world: Any, path: str) -> None:
    outline = _outline(client.get(path).text)
    assert outline.lang == "vi"
    assert outline.h1 == 1
    assert outline.controls, "every portal page here has a form"
    for control in outline.controls:
        assert control is not None
        assert control in outline.labels, f"no label for #{control} on {path}"


@pytest.mark.parametrize("path", ["/san-pham/{lychee}", "/co-so/{org}", "/danh-muc"])
def test_accessibility_of_detail_pages(client: TestClient, world: Any, path: str) -> None:
    url = path.format(lychee=world.lychee.id, org=world.luc_ngan.id)
    outline = _outline(client.get(url).text)
    assert (outline.lang, outline.h1) == ("vi", 1)


def test_producers_search(client: TestClient, world: Any) -> None:
    def names(**params: Any) -> list[str]:
        return re.findall(
            r'<a href="/co-so/\d+">([^<]+)</a>', client.get("/co-so", params=params).text
        )

    assert names() == ["Công ty Mì Chũ Kinh Bắc", "HTX Vải thiều Lục Ngạn"]
    assert names(q="mi chu") == ["Công ty Mì Chũ Kinh Bắc"]
    assert names(q="CHUA DUYET") == []  # submitted, not yet published
    assert names(commune=f.LUC_NGAN) == ["HTX Vải thiều Lục Ngạn"]
    outline = _outline(client.get("/co-so").text)
    assert (outline.lang, outline.h1) == ("vi", 1)
    assert all(c in outline.labels for c in outline.controls)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_images_of_published_products_only(
    client: TestClient, app: Any, db_session: Session, world: Any, publish: Any
) -> None:
    media = app.state.settings.media_dir
    shown, hidden = (
        registry_service.add_product_image(
            db_session,
            actor=f.ADMIN,
            product_id=p.id,
            data=PNG,
            filename="a.png",
            media_dir=media,
            max_bytes=10_000,
        )
        for p in (world.lychee, world.draft)
    )
    db_session.commit()
    # Added after the product was published: not public until a reviewer approves a new version.
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert f"/anh/{shown.id}" not in html
    assert client.get(f"/san-pham/{world.lychee.id}/anh/{shown.id}").status_code == 404
    publish(db_session, world.lychee)
    db_session.commit()
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert f'src="/san-pham/{world.lychee.id}/anh/{shown.id}"' in html
    image = client.get(f"/san-pham/{world.lychee.id}/anh/{shown.id}")
    assert (image.status_code, image.headers["content-type"]) == (200, "image/png")
    assert client.get(f"/san-pham/{world.draft.id}/anh/{hidden.id}").status_code == 404
    assert client.get(f"/san-pham/{world.lychee.id}/anh/{hidden.id}").status_code == 404


def test_certifications_shown_are_the_reviewed_ones(
    client: TestClient, db_session: Session, world: Any, publish: Any
) -> None:
    current = registry_service.get_product(db_session, actor=f.ADMIN, product_id=world.lychee.id)
    data = ProductIn.model_validate(
        {
            "gtin": current.gtin,
            "name_vi": current.name_vi,
            "sector": current.sector,
            "certifications": [
                {
                    "scheme": "globalgap",
                    "number": "GG-CHUA-DUYET",
                    "issuer": "Control Union",
                    "valid_from": "2026-01-01",
                    "valid_to": "2099-12-31",
                }
            ],
        }
    )
    registry_service.update_product(db_session, actor=f.ADMIN, product_id=current.id, data=data)
    db_session.commit()
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert "GG-CHUA-DUYET" not in html  # declared, not yet reviewed
    assert "VietGAP" in html  # the published version's certificate stays until then
    publish(db_session, world.lychee)
    db_session.commit()
    html = client.get(f"/san-pham/{world.lychee.id}").text
    assert "GG-CHUA-DUYET" in html
