"""A consumer opens a stamp's URL: verdict, facts, journey, warnings, 404s and the linkset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import scan_factories as sf
from txng.accounts.roles import Principal, Role
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.models import EpcisEvent, Organisation, Product
from txng.models.base import utcnow
from txng.models.stamps import RecallTarget, StampScan

LINKSET = {"Accept": "application/linkset+json"}


@pytest.fixture
def w(db_session: Session) -> sf.ConsumerWorld:
    world = sf.world(db_session)
    db_session.commit()
    return world


def _visitor(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(ip, 50000))


@pytest.fixture
def other(app: FastAPI) -> Iterator[TestClient]:
    with _visitor(app, "203.0.113.9") as c:
        yield c


def _page(client: TestClient, path: str, **params: str) -> html.HtmlElement:
    response = client.get(path, headers=sf.BROWSER, params=params)
    assert response.status_code == 200, response.text[:500]
    return html.fromstring(response.text)


def _verdict(page: html.HtmlElement) -> tuple[str, list[str]]:
    banner = page.xpath("//section[@id='verdict']")[0]
    tone = next(c for c in banner.get("class").split() if c.startswith("verdict-"))
    codes = [
        c.removeprefix("warning-")
        for div in banner.xpath(".//div[contains(@class, 'verdict-warning')]")
        for c in div.get("class").split()
        if c.startswith("warning-")
    ]
    return tone.removeprefix("verdict-"), codes


def _text(node: html.HtmlElement) -> str:
    return " ".join(node.text_content().split())


def test_first_scan_is_genuine_and_shows_the_circular_02_facts(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    assert _verdict(page) == ("green", [])
    assert page.findtext(".//h1") == "Genuine — first verified now"
    text = _text(page)
    for fact in (
        "Luc Ngan lychee",  # English name on the English page
        "HTX Vải thiều Thanh Hà",
        "Thôn Đồng Cốc, xã Lục Ngạn",
        "Thanh Hà",  # brand
        w.gtin,
        sf.LOT,
        stamp.serial,
        stamp.short_code,
        "3650 days",
        "TCVN 11892-1:2017 (VietGAP)",
        "OCOP 4 stars",
        "VG-24-0001",
    ):
        assert fact in text, fact
    certs = [_text(li) for li in page.xpath("//ul[@class='certs']/li")]
    assert any("VG-24-0001" in c and "Valid" in c for c in certs)
    assert any("GG-2019" in c and "Expired" in c for c in certs)
    journey = [_text(li) for li in page.xpath("//ol[@class='journey']/li")]
    assert len(journey) == 1
    assert "10/06/2026 07:30" in journey[0]
    assert "Vườn vải Thanh Hà" in journey[0]
    assert "recorded 3 days later" in journey[0]
    # the ledger's block has its marked place, empty until the ledger is wired in
    assert not page.xpath("//*[contains(@class, 'seal')]")


def test_the_page_is_vietnamese_by_default_and_switches_to_english(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    vi = _page(client, sf.url(stamp))
    assert vi.get("lang") == "vi"
    assert "Vải thiều Lục Ngạn" in _text(vi)
    client.get(f"/lang/en?next={sf.url(stamp)}", headers=sf.BROWSER)
    en = _page(client, sf.url(stamp))
    assert en.get("lang") == "en"
    assert "Luc Ngan lychee" in _text(en)


def test_later_scans_say_how_many_times_and_when_first(
    client: TestClient, other: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    _page(other, sf.url(stamp))  # someone else scanned it first
    _page(other, sf.url(stamp), lang="en")  # …and reloaded: the same visit
    page = _page(client, sf.url(stamp), lang="en")
    assert _verdict(page) == ("green", [])
    assert page.findtext(".//h1") == "Genuine — verified 1 times before"
    history = _text(page.xpath("//p[@class='verdict-history']")[0])
    assert "Scanned 1 time before." in history
    assert "First scanned on" in history
    # the consumer's own reload does not count against them
    again = _page(client, sf.url(stamp), lang="en")
    assert again.findtext(".//h1") == "Genuine — verified 1 times before"


# Stamps may be printed before their lot is known: the page then finds the lot by the stamp.
@pytest.mark.parametrize("with_lot", [True, False], ids=["lot in the code", "code without lot"])
def test_a_lot_recall_turns_the_page_red_with_reason_and_instructions(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld, with_lot: bool
) -> None:
    stamp = sf.stamp(db_session, w)
    sf.recall(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp, with_lot=with_lot), lang="en")
    assert _verdict(page) == ("red", ["recalled"])
    banner = _text(page.xpath("//section[@id='verdict']")[0])
    assert "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng" in banner
    assert "High" in banner
    assert "Stop eating it and return it to the shop." in banner
    vi_page = _page(client, sf.url(stamp, with_lot=with_lot), lang="vi")
    vi = _text(vi_page.xpath("//section[@id='verdict']")[0])
    assert "Ngừng sử dụng và trả lại nơi mua." in vi


def test_a_recall_of_the_single_item_turns_its_page_red(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp, other = sf.stamp(db_session, w), sf.stamp(db_session, w)
    item_recall = sf.recall(db_session, w, lot="OTHER-LOT")  # its lot is not this one…
    db_session.add(  # …but the unit itself is in its scope
        RecallTarget(
            recall_id=item_recall.id,
            ident=identifiers.sgtin_dl(stamp.gtin, stamp.serial),
            kind="item",
            organisation_id=w.org.id,
        )
    )
    db_session.commit()
    assert _verdict(_page(client, sf.url(stamp))) == ("red", ["recalled"])
    assert _verdict(_page(client, sf.url(other))) == ("green", [])


def test_a_lifted_recall_or_a_recall_of_another_lot_does_not_warn(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    sf.recall(db_session, w, state="lifted")
    sf.recall(db_session, w, lot="OTHER-LOT")
    db_session.commit()
    assert _verdict(_page(client, sf.url(stamp))) == ("green", [])


@pytest.mark.parametrize("who", ["stamp", "product", "organisation"])
def test_suspensions_warn_in_amber(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld, who: str
) -> None:
    stamp = sf.stamp(db_session, w, status="suspended" if who == "stamp" else "active")
    if who == "product":
        db_session.execute(
            update(Product).where(Product.id == w.product.id).values(status="suspended")
        )
    if who == "organisation":
        db_session.execute(
            update(Organisation).where(Organisation.id == w.org.id).values(status="suspended")
        )
    db_session.commit()
    assert _verdict(_page(client, sf.url(stamp))) == ("amber", ["suspended"])


def test_a_stamp_not_yet_activated_resolves_without_lot_and_warns(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w, lot=None, status="issued")
    db_session.commit()
    page = _page(client, f"/01/{w.gtin}/21/{stamp.serial}", lang="en")
    assert _verdict(page) == ("amber", ["not_activated"])
    assert page.findtext(".//h1") == "Not activated"
    # a stamp issued without lot also resolves with a lot in the link
    assert _verdict(_page(client, f"/01/{w.gtin}/10/ANY/21/{stamp.serial}")) == (
        "amber",
        ["not_activated"],
    )


@pytest.mark.parametrize("status", ["deactivated", "lost"])
def test_deactivated_and_lost_stamps_warn(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld, status: str
) -> None:
    stamp = sf.stamp(db_session, w, status=status)
    db_session.commit()
    assert _verdict(_page(client, sf.url(stamp))) == ("amber", [status])


def test_an_expired_product_warns(client: TestClient, db_session: Session) -> None:
    w = sf.world(db_session, shelf_life_days=5)  # packed 10/06/2026: expired on 15/06/2026
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    assert _verdict(page) == ("amber", ["expired"])
    assert "The shelf life ended on 15/06/2026." in _text(page)
    assert "Use by 15/06/2026" in _text(page)


def test_too_many_scans_is_a_suspected_counterfeit(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    start = utcnow() - timedelta(days=5)
    db_session.add_all(
        StampScan(stamp_id=stamp.id, scanned_at=start + timedelta(hours=i), ip_hash=f"h{i}")
        for i in range(30)
    )
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    assert _verdict(page) == ("red", ["counterfeit"])
    assert "scanned 30 times" in _text(page)


def test_scans_too_far_apart_are_a_suspected_counterfeit(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    now = utcnow()
    db_session.add_all(
        [
            StampScan(stamp_id=stamp.id, scanned_at=now - timedelta(hours=2), ip_hash="a",
                      latitude=21.03, longitude=105.85),  # Hà Nội
            StampScan(stamp_id=stamp.id, scanned_at=now - timedelta(hours=1), ip_hash="b",
                      latitude=10.78, longitude=106.70),  # TP.HCM an hour later
        ]
    )  # fmt: skip
    db_session.commit()
    assert _verdict(_page(client, sf.url(stamp))) == ("red", ["counterfeit"])


def test_an_unknown_serial_is_a_404_that_stands_out(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    sf.stamp(db_session, w)
    db_session.commit()
    response = client.get(f"/01/{w.gtin}/10/{sf.LOT}/21/NEVERISSUED", headers=sf.BROWSER)
    assert response.status_code == 404
    page = html.fromstring(response.text)
    assert _verdict(page) == ("red", ["unknown"])
    assert "NEVERISSUED" in _text(page)
    assert page.xpath("//form[@action='/tem/bao-cao-van-de']")  # report it right there
    machine = client.get(f"/01/{w.gtin}/21/NEVERISSUED", headers={"Accept": "application/json"})
    assert machine.status_code == 404
    assert machine.json()["type"] == "/problems/unknown-code"


def test_a_lot_that_is_not_the_stamps_is_unknown(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = client.get(f"/01/{w.gtin}/10/FAKE-LOT/21/{stamp.serial}", headers=sf.BROWSER)
    assert response.status_code == 404
    assert _verdict(html.fromstring(response.text)) == ("red", ["unknown"])
    # without the lot, the same stamp resolves
    assert _verdict(_page(client, sf.url(stamp, with_lot=False)))[0] == "green"


def test_a_stamp_of_an_unpublished_product_is_404(client: TestClient, db_session: Session) -> None:
    w = sf.world(db_session, publish=False)
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    response = client.get(sf.url(stamp), headers=sf.BROWSER)
    assert response.status_code == 404
    assert "Vải thiều Lục Ngạn" not in response.text
    assert client.get(sf.url(stamp), headers=LINKSET).status_code == 404


def test_linkset_recall_status_follows_active_recalls(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    voc = "https://gs1.org/voc/"

    def recall_link() -> dict[str, str]:
        body = client.get(sf.url(stamp), headers={**LINKSET, "Accept-Language": "en"}).json()
        return body["linkset"][0][voc + "recallStatus"][0]  # type: ignore[no-any-return]

    link = recall_link()
    assert link["title"] == "Not recalled"
    status = client.get(link["href"].removeprefix("http://testserver")).json()
    assert status["recalled"] is False
    sf.recall(db_session, w)
    db_session.commit()
    link = recall_link()
    assert link["title"] == "Recalled"
    status = client.get(link["href"].removeprefix("http://testserver")).json()
    assert status["recalled"] is True
    assert status["recalls"][0]["severity"] == "high"
    # the lot's own link reports the same recall
    lot = client.get(f"/api/resolver/recall-status/01/{w.gtin}/10/{sf.LOT}").json()
    assert lot["recalled"] is True


def test_machines_and_prefetches_are_not_counted_as_scans(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    client.head(sf.url(stamp), headers=sf.BROWSER)
    client.get(sf.url(stamp), headers={**sf.BROWSER, "Purpose": "prefetch"})
    client.get(sf.url(stamp), headers={**sf.BROWSER, "Sec-Purpose": "prefetch;prerender"})
    client.get(sf.url(stamp), headers={**sf.BROWSER, "User-Agent": "Googlebot/2.1"})
    client.get(sf.url(stamp), headers=LINKSET)
    count = db_session.scalars(select(StampScan).where(StampScan.stamp_id == stamp.id)).all()
    assert count == []
    _page(client, sf.url(stamp))
    db_session.expire_all()
    assert len(db_session.scalars(select(StampScan)).all()) == 1


def test_the_province_brands_the_page(
    client: TestClient, app: FastAPI, db_session: Session, w: sf.ConsumerWorld
) -> None:
    app.state.settings.province_colour = "#7a1f2b"
    app.state.settings.province_logo_url = "/static/logo-bac-ninh.svg"
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp))
    assert page.xpath("//link[@href='/tem/giao-dien.css']")
    assert page.xpath("//p[@class='province']/img[@src='/static/logo-bac-ninh.svg']")
    assert "Bắc Ninh" in _text(page.xpath("//p[@class='province']")[0])
    css = client.get("/tem/giao-dien.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--brand:#7a1f2b" in css.text


def test_the_journey_goes_back_to_the_harvest_the_lot_was_packed_from(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=w.org.id)
    site = {"id": f"https://id.gs1.org/414/{w.facility_gln}"}
    harvest = identifiers.lgtin_dl(w.gtin, "H-0609")
    packed = identifiers.lgtin_dl(w.gtin, sf.LOT)
    common = {"eventTimeZoneOffset": "+07:00", "readPoint": site, "bizLocation": site}
    outcome = capture_service.capture(
        db_session,
        owner,
        {
            "@context": sf.CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-06-30T08:00:00.000+07:00",
            "epcisBody": {
                "eventList": [
                    {
                        "type": "ObjectEvent",
                        "action": "ADD",
                        "eventTime": "2026-06-09T06:00:00.000+07:00",
                        "bizStep": "commissioning",
                        "quantityList": [{"epcClass": harvest, "quantity": 120, "uom": "KGM"}],
                        **common,
                    },
                    {
                        "type": "TransformationEvent",
                        "eventTime": "2026-06-10T06:00:00.000+07:00",
                        "bizStep": "packing",
                        "inputQuantityList": [{"epcClass": harvest, "quantity": 120, "uom": "KGM"}],
                        "outputQuantityList": [{"epcClass": packed, "quantity": 100, "uom": "KGM"}],
                        **common,
                    },
                ]
            },
        },
    )
    db_session.execute(
        update(EpcisEvent)
        .where(EpcisEvent.capture_job_id == outcome.job.id)
        .values(published_at=utcnow())
    )
    stamp = sf.stamp(db_session, w)
    db_session.commit()
    page = _page(client, sf.url(stamp), lang="en")
    journey = [_text(li) for li in page.xpath("//ol[@class='journey']/li")]
    assert len(journey) == 3
    assert "09/06/2026 06:00" in journey[0]  # the harvest, upstream of the packed lot
    assert "10/06/2026 06:00" in journey[1]
    assert "10/06/2026 07:30" in journey[2]
    assert all("Vườn vải Thanh Hà" in line for line in journey)


def test_certificates_shown_are_the_reviewed_ones(
    client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    from txng.registry import service as registry_service
    from txng.registry.schemas import ProductIn
    from txng.review import service as review_service

    stamp = sf.stamp(db_session, w)
    product = w.product
    data = ProductIn.model_validate(
        {
            "gtin": product.gtin,
            "name_vi": product.name_vi,
            "sector": product.sector,
            "certifications": [
                {
                    "scheme": "organic",
                    "number": "HC-CHUA-DUYET",
                    "issuer": "Tổ chức chứng nhận",
                    "valid_from": "2026-01-01",
                    "valid_to": "2099-12-31",
                }
            ],
        }
    )
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=w.org.id)
    registry_service.update_product(db_session, actor=owner, product_id=product.id, data=data)
    db_session.commit()
    text = _page(client, sf.url(stamp), lang="en").text_content()
    assert "HC-CHUA-DUYET" not in text  # declared since, not reviewed
    assert "VG-24-0001" in text  # the published version's certificate

    item = review_service.submit_product(db_session, actor=owner, product_id=product.id)
    review_service.approve(db_session, actor=sf.AGRI, item_id=item.id)
    db_session.commit()
    client.app.state.consumer_cache = None  # the page's 10 s cache of published facts
    text = _page(client, sf.url(stamp), lang="en").text_content()
    assert "HC-CHUA-DUYET" in text


@pytest.mark.postgresql_only
def test_the_page_reads_outside_a_transaction_and_still_logs_the_scan(
    app: FastAPI, client: TestClient, db_session: Session, w: sf.ConsumerWorld
) -> None:
    """The page only reads: on PostgreSQL its statements run without BEGIN/COMMIT round trips
    (autocommit), while the scan is still written by its own transaction."""
    from sqlalchemy import event

    stamp = sf.stamp(db_session, w)
    db_session.commit()
    modes: list[tuple[bool, str]] = []

    def seen(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        modes.append((conn.connection.driver_connection.autocommit, statement.split()[0]))

    event.listen(app.state.engine, "before_cursor_execute", seen)
    try:
        page = _page(client, sf.url(stamp), lang="en")
    finally:
        event.remove(app.state.engine, "before_cursor_execute", seen)
    assert page.findtext(".//h1") == "Genuine — first verified now"
    reads = [autocommit for autocommit, verb in modes if verb == "SELECT"]
    assert reads
    assert all(reads)
    assert (False, "INSERT") in modes  # the scan, in a transaction of its own
    db_session.expire_all()
    assert db_session.scalar(select(StampScan.id).where(StampScan.stamp_id == stamp.id))
