"""A consumer reports a problem; the authority (and nobody else) sees the cases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
import scan_factories as sf
from txng.accounts.roles import Role, Sector
from txng.models import StoredFile
from txng.models.stamps import ProblemReport

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
GOOD = {"category": "quality", "message": "Quả bị dập và có mùi lạ.", "contact": "0912 345 678"}


@pytest.fixture
def w(db_session: Session) -> sf.ConsumerWorld:
    world = sf.world(db_session)
    db_session.commit()
    return world


def _report(
    client: TestClient, link: str, fields: dict[str, str], photo: bytes | None = None
) -> Any:
    token = f.csrf_of(client)
    files = {"photo": ("anh.png", photo, "image/png")} if photo is not None else None
    return client.post(
        "/tem/bao-cao-van-de",
        data={"csrf_token": token, "link": link, **fields},
        files=files,
        headers=sf.BROWSER,
    )


def _reports(db: Session) -> list[ProblemReport]:
    db.expire_all()
    return list(db.scalars(select(ProblemReport).order_by(ProblemReport.id)))


def test_a_report_becomes_a_case_with_only_what_was_typed(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    page = html.fromstring(client.get(sf.url(stamp), headers=sf.BROWSER).text)
    assert page.xpath("//form[@action='/tem/bao-cao-van-de']//select[@name='category']")
    response = _report(client, sf.url(stamp), GOOD)
    assert response.status_code == 201
    assert "alert" not in response.text or "error" not in response.text
    (report,) = _reports(db_session)
    assert (report.category, report.message, report.contact) == (
        "quality",
        GOOD["message"],
        GOOD["contact"],
    )
    assert (report.stamp_id, report.product_id, report.organisation_id) == (
        stamp.id,
        w.product.id,
        w.org.id,
    )
    assert report.state == "open"
    assert report.photo_file_id is None
    assert "testclient" not in report.ip_hash
    assert len(report.ip_hash) == 64


def test_field_errors_are_shown_next_to_the_fields_and_values_kept(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = _report(client, sf.url(stamp), {"category": "nonsense", "message": "ngắn"})
    assert response.status_code == 422
    page = html.fromstring(response.text)
    assert page.xpath("//p[@id='e-category']")
    assert page.xpath("//p[@id='e-message']")
    assert page.xpath("//textarea[@id='f-message']")[0].text == "ngắn"
    assert not page.xpath("//p[@id='e-contact']")
    assert _reports(db_session) == []


def test_a_photo_is_stored_and_a_non_image_refused(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    bad = _report(client, sf.url(stamp), GOOD, photo=b"%PDF-1.4 not an image")
    assert bad.status_code == 422
    assert html.fromstring(bad.text).xpath("//p[@id='e-photo']")
    assert _reports(db_session) == []
    ok = _report(client, sf.url(stamp), GOOD, photo=PNG)
    assert ok.status_code == 201
    (report,) = _reports(db_session)
    stored = db_session.get(StoredFile, report.photo_file_id)
    assert stored is not None
    assert (stored.content_type, stored.size_bytes, stored.purpose) == (
        "image/png",
        len(PNG),
        "problem_report",
    )


def test_a_too_large_photo_is_refused(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    big = PNG + b"\x00" * 200_000  # the test settings allow 200 kB images
    response = _report(client, sf.url(stamp), GOOD, photo=big)
    assert response.status_code == 422
    assert html.fromstring(response.text).xpath("//p[@id='e-photo']")


def test_reports_are_rate_limited_per_ip(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    for _ in range(5):
        assert _report(client, sf.url(stamp), GOOD).status_code == 201
    assert _report(client, sf.url(stamp), GOOD).status_code == 429
    assert len(_reports(db_session)) == 5


def test_an_unknown_code_can_be_reported(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    link = f"/01/{w.gtin}/21/COPIED123"
    response = _report(client, link, {**GOOD, "category": "counterfeit"})
    assert response.status_code == 201
    (report,) = _reports(db_session)
    assert (report.link, report.stamp_id, report.category) == (link, None, "counterfeit")


def test_a_report_needs_the_csrf_token(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = client.post(
        "/tem/bao-cao-van-de", data={"link": sf.url(stamp), **GOOD}, headers=sf.BROWSER
    )
    assert response.status_code == 403
    assert _reports(db_session) == []


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.PROVINCIAL_ADMIN, True), (Role.INSPECTOR, True), (Role.SECTOR_REVIEWER, False),
     (Role.ENTERPRISE_ADMIN, False)],
)  # fmt: skip
def test_only_the_authority_sees_the_reports(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld, role: Role, allowed: bool
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    assert _report(client, sf.url(stamp), GOOD, photo=PNG).status_code == 201
    anonymous = client.get("/bao-cao-van-de", headers=sf.BROWSER, follow_redirects=False)
    assert anonymous.status_code == 303
    extra: dict[str, Any] = {"organisation_id": w.org.id} if role == Role.ENTERPRISE_ADMIN else {}
    if role == Role.SECTOR_REVIEWER:
        extra["sector"] = Sector.AGRICULTURE
    user = f.user(db_session, role=role, **extra)
    db_session.commit()
    f.login(client, user.email)
    response = client.get("/bao-cao-van-de", headers=sf.BROWSER)
    (report,) = _reports(db_session)
    photo = client.get(f"/bao-cao-van-de/{report.id}/anh", headers=sf.BROWSER)
    if not allowed:
        assert response.status_code == 403
        assert GOOD["message"] not in response.text
        assert photo.status_code == 403
        return
    assert response.status_code == 200
    rows = html.fromstring(response.text).xpath("//table//tbody/tr")
    assert len(rows) == 1
    assert GOOD["message"] in rows[0].text_content()
    assert GOOD["contact"] in rows[0].text_content()
    assert photo.status_code == 200
    assert photo.content == PNG
