"""The consumer page reuses rendered parts of its published facts; what must stay fresh does.

The facts, certificates, journey and the blank report form are rendered once per language and
facts (resolver.pages.fragment); the verdict, scan history, recalls and a form's errors are not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import update
from sqlalchemy.orm import Session

import factories as f
import scan_factories as sf
from txng.models.base import utcnow
from txng.models.stamps import Recall, StampScan


@pytest.fixture
def w(db_session: Session) -> sf.ConsumerWorld:
    world = sf.world(db_session)
    db_session.commit()
    return world


def _page(client: TestClient, path: str, **params: str) -> html.HtmlElement:
    response = client.get(path, headers=sf.BROWSER, params=params)
    assert response.status_code == 200, response.text[:500]
    return html.fromstring(response.text)


def _text(node: html.HtmlElement) -> str:
    return " ".join(node.text_content().split())


def _tone(page: html.HtmlElement) -> str:
    banner = page.xpath("//section[@id='verdict']")[0]
    return next(c for c in banner.get("class").split() if c.startswith("verdict-"))


def test_a_recall_shows_at_once_and_its_lifting_too_while_the_facts_are_cached(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    before = _page(client, sf.url(stamp), lang="en")
    assert _tone(before) == "verdict-green"
    recall = sf.recall(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    assert _tone(page) == "verdict-red"
    assert "Stop eating it and return it to the shop." in _text(page)
    assert "HTX Vải thiều Thanh Hà" in _text(page)  # the cached facts are still there
    assert page.xpath("//h2[@id='events-title']")
    db_session.execute(update(Recall).where(Recall.id == recall.id).values(state="lifted"))
    db_session.commit()
    assert _tone(_page(client, sf.url(stamp), lang="en")) == "verdict-green"


def test_each_language_gets_its_own_facts_certificates_and_journey(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    vi = _text(_page(client, sf.url(stamp), lang="vi"))
    en = _text(_page(client, sf.url(stamp), lang="en"))
    again = _text(_page(client, sf.url(stamp), lang="vi"))
    for label in ("Cơ sở sản xuất", "Mã số mã vạch (GTIN)", "Hành trình", "Vấn đề là gì?"):
        assert label in vi
        assert label in again
        assert label not in en
    for label in ("Producer", "Barcode (GTIN)", "Journey", "Certificates", "What is wrong?"):
        assert label in en
        assert label not in vi
        assert label not in again
    assert vi == again


def test_an_event_of_the_item_itself_shows_at_once_in_the_cached_journey(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    steps = _page(client, sf.url(stamp), lang="en").xpath("//ol[@class='journey']/li/strong")
    assert "Retail sale" not in [s.text for s in steps]
    sf.item_event(db_session, w, stamp)
    db_session.commit()
    steps = _page(client, sf.url(stamp), lang="en").xpath("//ol[@class='journey']/li/strong")
    assert [s.text for s in steps][-1] == "Retail sale"
    # another stamp of the same lot still shows the lot's journey only
    other = sf.stamp(db_session, w)
    db_session.commit()
    steps = _page(client, sf.url(other), lang="en").xpath("//ol[@class='journey']/li/strong")
    assert "Retail sale" not in [s.text for s in steps]


def test_a_rejected_report_keeps_its_values_and_the_next_visitor_gets_a_blank_form(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    _page(client, sf.url(stamp))  # the blank form is rendered and reused
    response = client.post(
        "/tem/bao-cao-van-de",
        data={
            "csrf_token": f.csrf_of(client),
            "link": sf.url(stamp),
            "category": "nonsense",
            "message": "ngắn",
        },
        headers=sf.BROWSER,
    )
    assert response.status_code == 422
    rejected = html.fromstring(response.text)
    assert rejected.xpath("//p[@id='e-category']")
    assert rejected.xpath("//textarea[@id='f-message']")[0].text == "ngắn"
    page = _page(client, sf.url(stamp))
    assert not page.xpath("//p[@id='e-category'] | //p[@id='e-message']")
    assert not page.xpath("//textarea[@id='f-message']")[0].text
    assert page.xpath("//form[@action='/tem/bao-cao-van-de']//option[@value='quality']")
    token = page.xpath("//form[@action='/tem/bao-cao-van-de']//input[@name='csrf_token']")
    assert token[0].get("value") == f.csrf_of(client)


def test_a_visitors_own_located_scan_is_not_someone_elses(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    """The scan history (one query) leaves out the visitor's current visit, located or not."""
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    _page(client, sf.url(stamp), lang="en")  # scan logged after the response
    db_session.execute(
        update(StampScan)
        .where(StampScan.stamp_id == stamp.id)
        .values(latitude=21.03, longitude=105.85)
    )
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    history = _text(page.xpath("//p[@class='verdict-history']")[0])
    assert history == "No one has scanned this stamp before you."
    # someone else, earlier, elsewhere: counted, and first
    db_session.add(
        StampScan(stamp_id=stamp.id, scanned_at=utcnow() - timedelta(days=2), ip_hash="x",
                  commune_code=None, latitude=None, longitude=None)
    )  # fmt: skip
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    history = _text(page.xpath("//p[@class='verdict-history']")[0])
    assert "Scanned 1 time before." in history
