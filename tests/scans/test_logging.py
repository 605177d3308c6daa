"""Scan logging: a salted hash instead of the IP, location only with consent, never in the way."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import factories as f
import scan_factories as sf
from txng.models.base import utcnow
from txng.models.stamps import StampScan
from txng.scans import tasks

IP = "198.51.100.7"


@pytest.fixture
def w(db_session: Session) -> sf.ConsumerWorld:
    world = sf.world(db_session)
    db_session.commit()
    return world


def _scans(db: Session) -> list[StampScan]:
    db.expire_all()
    return list(db.scalars(select(StampScan).order_by(StampScan.id)))


def test_the_ip_address_is_stored_only_as_a_salted_hash(
    app: FastAPI, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    with TestClient(app, client=(IP, 1)) as one, TestClient(app, client=("192.0.2.1", 1)) as two:
        assert one.get(sf.url(stamp), headers=sf.BROWSER).status_code == 200
        assert two.get(sf.url(stamp), headers=sf.BROWSER).status_code == 200
    first, second = _scans(db_session)
    assert len(first.ip_hash) == 64
    assert IP not in first.ip_hash
    assert first.ip_hash != second.ip_hash
    # the salt matters: a plain hash of the address would be guessable from 2^32 candidates
    import hashlib

    assert first.ip_hash != hashlib.sha256(IP.encode()).hexdigest()
    assert (first.commune_code, first.latitude, first.longitude) == (None, None, None)


def test_a_failing_scan_log_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Session:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with caplog.at_level(logging.ERROR, logger="txng.scans"):
        tasks.record_scan(broken, stamp_id=1, ip_hash="x", at=utcnow())  # type: ignore[arg-type]
    assert "could not log 1 scan(s) of stamps [1]" in caplog.text


def test_the_page_works_when_scan_logging_fails(
    client: TestClient, app: FastAPI, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    real = tasks.service.log_scans
    tasks.service.log_scans = explode  # type: ignore[assignment]
    try:
        response = client.get(sf.url(stamp), headers=sf.BROWSER)
    finally:
        tasks.service.log_scans = real  # type: ignore[assignment]
    assert response.status_code == 200
    assert "verdict-green" in response.text


def _share(client: TestClient, stamp_url: str, **fields: str) -> object:
    token = f.csrf_of(client, stamp_url)
    return client.post(
        "/tem/vi-tri",
        data={"csrf_token": token, "link": stamp_url, **fields},
        headers=sf.BROWSER,
        follow_redirects=False,
    )


def test_a_consented_commune_is_attached_to_the_visit(
    client: TestClient, app: FastAPI, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = _share(client, sf.url(stamp), commune_code=f.LUC_NGAN)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"].endswith("?located=1#scan")  # type: ignore[attr-defined]
    (scan,) = _scans(db_session)  # the visit itself, now with its commune; no second row
    assert scan.commune_code == f.LUC_NGAN
    assert scan.latitude is not None
    assert round(scan.latitude, 2) == scan.latitude
    thanks = client.get(response.headers["location"], headers=sf.BROWSER)  # type: ignore[attr-defined]
    assert "alert-ok" in thanks.text
    assert len(_scans(db_session)) == 1  # the thank-you page is not another scan
    # the next consumer learns where it was first scanned
    with TestClient(app, client=("192.0.2.55", 1)) as other:
        page = html.fromstring(
            other.get(sf.url(stamp), headers=sf.BROWSER, params={"lang": "en"}).text
        )
    history = " ".join(page.xpath("//p[@class='verdict-history']")[0].text_content().split())
    assert "Lục Ngạn" in history


def test_coordinates_are_rounded_to_about_a_kilometre(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = _share(client, sf.url(stamp), latitude="21.387654", longitude="106.551234")
    assert response.status_code == 303  # type: ignore[attr-defined]
    (scan,) = _scans(db_session)
    assert (scan.latitude, scan.longitude) == (21.39, 106.55)


def test_a_bad_location_is_refused_next_to_the_field(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = _share(client, sf.url(stamp), commune_code="99999")
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = html.fromstring(response.text)  # type: ignore[attr-defined]
    assert page.xpath("//p[@id='e-commune_code']")
    assert all(s.commune_code is None for s in _scans(db_session))


def test_sharing_a_location_needs_the_csrf_token(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = client.post(
        "/tem/vi-tri", data={"link": sf.url(stamp), "commune_code": f.LUC_NGAN}, headers=sf.BROWSER
    )
    assert response.status_code == 403


def test_one_address_adds_at_most_scans_per_minute_to_the_counts(
    app: FastAPI, db_session: Session, w: sf.ConsumerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone opening many stamps from one address cannot inflate the scan counts: beyond the
    limit the pages are still shown, but not counted."""
    from txng.web.ratelimit import RateLimiter

    monkeypatch.setattr(app.state, "scan_limiter", RateLimiter(2, 60.0))
    stamps = [sf.stamp(db_session, w, serial=f"RL{i}") for i in range(3)]
    db_session.commit()
    with TestClient(app, client=(IP, 1)) as one, TestClient(app, client=("192.0.2.1", 1)) as two:
        for stamp in stamps:
            assert one.get(sf.url(stamp), headers=sf.BROWSER).status_code == 200
        assert two.get(sf.url(stamps[2]), headers=sf.BROWSER).status_code == 200
    counted = [s.stamp_id for s in _scans(db_session)]
    assert counted == [stamps[0].id, stamps[1].id, stamps[2].id]  # the 3rd by the other address


def test_the_resolver_answers_429_to_an_address_that_asks_too_often(
    app: FastAPI, db_session: Session, w: sf.ConsumerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from txng.web.ratelimit import RateLimiter

    monkeypatch.setattr(app.state, "resolver_limiter", RateLimiter(2, 60.0))
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    with TestClient(app, client=(IP, 1)) as one, TestClient(app, client=("192.0.2.1", 1)) as two:
        assert one.get(sf.url(stamp), headers=sf.BROWSER).status_code == 200
        assert one.get(sf.url(stamp), headers={"Accept": "application/json"}).status_code == 200
        page = one.get(sf.url(stamp), headers=sf.BROWSER)
        assert page.status_code == 429
        assert "Quá nhiều yêu cầu" in html.fromstring(page.text).text_content()
        problem = one.get(sf.url(stamp), headers={"Accept": "application/json"})
        assert problem.status_code == 429
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert two.get(sf.url(stamp), headers=sf.BROWSER).status_code == 200
