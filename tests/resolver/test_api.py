"""The resolver over HTTP: known = published, content negotiation, 400 and 404 answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import update
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.epcis import capture as capture_service
from txng.kit.gs1 import with_check_digit
from txng.models import EpcisEvent, Facility, Product
from txng.models.base import utcnow
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn, ProductIn
from txng.review import service as review_service

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
AGRI = Principal(role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE)
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SSCC = with_check_digit("38930001" + "000000001")
FACILITY_GLN = with_check_digit("893000100002")
GTIN_EXAMPLE = with_check_digit("0893000100001")


@dataclass
class World:
    product: Product
    draft: Product
    facility: Facility
    gtin: str  # GTIN-14


def _event(when: str, step: str, **what: Any) -> dict[str, Any]:
    site = f"https://id.gs1.org/414/{FACILITY_GLN}"
    return {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": when,
        "eventTimeZoneOffset": "+07:00",
        "bizStep": step,
        "readPoint": {"id": site},
        "bizLocation": {"id": site},
        **what,
    }


def _capture(db: Session, owner: Principal, *events: dict[str, Any], publish: bool) -> None:
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-30T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }
    outcome = capture_service.capture(db, owner, document)
    ids = [e.event_id for e in db.query(EpcisEvent).filter_by(capture_job_id=outcome.job.id)]
    assert ids, outcome
    db.execute(
        update(EpcisEvent)
        .where(EpcisEvent.event_id.in_(ids))
        .values(published_at=utcnow() if publish else None)
    )


@pytest.fixture
def world(db_session: Session) -> World:
    org = f.organisation(db_session, name="HTX Vải thiều Thanh Hà")
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)
    facility = registry_service.create_facility(
        db_session,
        actor=f.ADMIN,
        organisation_id=org.id,
        data=FacilityIn.model_validate(
            {
                "kind": "farm",
                "name": "Vườn vải Thanh Hà",
                "gln": FACILITY_GLN,
                "province_code": "24",
                "commune_code": f.LUC_NGAN,
            }
        ),
    )
    product = f.product(db_session, organisation_id=org.id, name="Vải thiều Lục Ngạn")
    draft = f.product(db_session, organisation_id=org.id, name="Nhãn lồng (nháp)")
    for item in (
        review_service.submit_product(db_session, actor=owner, product_id=product.id),
        review_service.submit_organisation(db_session, actor=owner, organisation_id=org.id),
        review_service.submit_facility(db_session, actor=owner, facility_id=facility.id),
    ):
        review_service.approve(db_session, actor=AGRI, item_id=item.id)
    review_service.submit_product(db_session, actor=owner, product_id=draft.id)  # not approved
    gtin = product.gtin
    lot = f"https://id.gs1.org/01/{gtin}/10/VT-0610"
    _capture(
        db_session,
        owner,
        _event(
            "2026-06-10T07:30:00.000+07:00",
            "packing",
            quantityList=[{"epcClass": lot, "quantity": 10, "uom": "KGM"}],
        ),
        _event(
            "2026-06-11T23:30:00.000+07:00",
            "shipping",
            epcList=[f"https://id.gs1.org/01/{gtin}/21/S1", f"https://id.gs1.org/00/{SSCC}"],
        ),
        publish=True,
    )
    _capture(
        db_session,
        owner,
        _event(
            "2026-06-12T07:30:00.000+07:00",
            "packing",
            quantityList=[
                {
                    "epcClass": f"https://id.gs1.org/01/{gtin}/10/NOT-YET",
                    "quantity": 1,
                    "uom": "KGM",
                },
                {
                    "epcClass": f"https://id.gs1.org/01/{draft.gtin}/10/D1",
                    "quantity": 1,
                    "uom": "KGM",
                },
            ],
        ),
        publish=False,
    )
    _capture(
        db_session,
        owner,
        _event(
            "2026-06-12T08:30:00.000+07:00",
            "packing",
            quantityList=[{"epcClass": f"https://id.gs1.org/01/{draft.gtin}/10/D2", "quantity": 1}],
        ),
        publish=True,
    )
    db_session.commit()
    return World(product, draft, facility, gtin)


# the consumer page ---------------------------------------------------------------------------


def test_a_browser_gets_the_consumer_page_of_a_lot(client: TestClient, world: World) -> None:
    response = client.get(f"/01/{world.gtin}/10/VT-0610", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = html.fromstring(response.text)
    assert page.findtext(".//h1") == "Vải thiều Lục Ngạn"
    text = page.text_content()
    assert "HTX Vải thiều Thanh Hà" in text
    assert "VT-0610" in text
    items = [" ".join(li.text_content().split()) for li in page.xpath("//ol[@class='journey']/li")]
    assert len(items) == 1
    assert "10/06/2026 07:30" in items[0]
    assert "Vườn vải Thanh Hà" in items[0]
    assert 'rel="linkset"' in response.headers["link"]
    assert not page.xpath("//script")


def test_dates_are_shown_in_vietnam_time(client: TestClient, world: World) -> None:
    response = client.get(f"/01/{world.gtin}/21/S1", headers=BROWSER)
    assert response.status_code == 200
    page = html.fromstring(response.text)
    items = page.xpath("//ol[@class='journey']/li")
    assert items[0].findtext("time") == "11/06/2026 23:30"  # +07:00, not the UTC day


def test_a_product_and_an_sscc_and_a_gln_resolve(client: TestClient, world: World) -> None:
    assert client.get(f"/01/{world.gtin[1:]}", headers=BROWSER).status_code == 200
    assert client.get(f"/01/{world.gtin}/", headers=BROWSER).status_code == 200
    assert client.get(f"/00/{SSCC}", headers=BROWSER).status_code == 200
    gln = client.get(f"/414/{FACILITY_GLN}", headers=BROWSER)
    assert gln.status_code == 200
    assert "Vườn vải Thanh Hà" in gln.text


def test_unknown_query_parameters_are_ignored_and_data_attributes_accepted(
    client: TestClient, world: World
) -> None:
    response = client.get(
        f"/01/{world.gtin}/10/VT-0610?17=261231&utm_source=qr&context=vn", headers=BROWSER
    )
    assert response.status_code == 200


# the linkset -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query"),
    [(JSON, ""), ({"Accept": "application/linkset+json"}, ""), (BROWSER, "?linkType=all")],
)
def test_machines_get_the_linkset(
    client: TestClient, world: World, headers: dict[str, str], query: str
) -> None:
    response = client.get(f"/01/{world.gtin}/10/VT-0610{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/linkset+json")
    assert response.headers["access-control-allow-origin"] == "*"
    (context,) = response.json()["linkset"]
    root = "http://testserver"
    assert context["anchor"] == f"{root}/01/{world.gtin}/10/VT-0610"
    voc = "https://gs1.org/voc/"
    assert context[voc + "pip"][0]["href"] == f"{root}/san-pham/{world.product.id}"
    lot = quote(f"https://id.gs1.org/01/{world.gtin}/10/VT-0610", safe="")
    assert context[voc + "traceability"][0]["href"] == f"{root}/trace?id={lot}"
    assert context[voc + "epcis"][0]["href"] == f"{root}/epcis/events?MATCH_epcClass={lot}"
    assert context[voc + "recallStatus"][0]["href"].startswith(f"{root}/api/resolver/")
    assert voc + "certificationInfo" in context
    assert voc + "defaultLink" in context


def test_the_anchor_is_canonical(client: TestClient, world: World) -> None:
    response = client.get(f"/01/{world.gtin[1:]}/10/VT-0610?17=261231", headers=JSON)
    (context,) = response.json()["linkset"]
    assert context["anchor"] == f"http://testserver/01/{world.gtin}/10/VT-0610"


def test_an_item_links_to_its_events_by_epc(client: TestClient, world: World) -> None:
    (context,) = client.get(f"/01/{world.gtin}/21/S1", headers=JSON).json()["linkset"]
    epcis = context["https://gs1.org/voc/epcis"][0]["href"]
    assert "MATCH_epc=" in epcis


def test_link_type_redirects(client: TestClient, world: World) -> None:
    for link_type in ("gs1:epcis", "https://gs1.org/voc/epcis"):
        response = client.get(
            f"/01/{world.gtin}/10/VT-0610",
            params={"linkType": link_type},
            follow_redirects=False,
        )
        assert response.status_code == 307
        assert "/epcis/events?MATCH_epcClass=" in response.headers["location"]
    unknown = client.get(
        f"/01/{world.gtin}/10/VT-0610?linkType=gs1:smpc", headers=JSON, follow_redirects=False
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_recall_status_and_certification_info(client: TestClient, world: World) -> None:
    recall = client.get(f"/api/resolver/recall-status/01/{world.gtin}/10/VT-0610")
    assert recall.status_code == 200
    assert recall.json()["recalled"] is False
    info = client.get(f"/api/resolver/certification-info/01/{world.gtin}")
    assert info.status_code == 200
    assert "standards" in info.json()
    draft = client.get(f"/api/resolver/recall-status/01/{world.draft.gtin}")
    assert draft.status_code == 404


def test_the_resolver_describes_itself(client: TestClient) -> None:
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.json()
    assert body["resolverRoot"] == "http://testserver"
    assert set(body["supportedPrimaryKeys"]) == {"01", "00", "414"}
    assert body["linkTypeDefaultCanBeLinkset"] is True
    assert body["supportedLinkType"][0]["prefix"] == "gs1:"
    assert body["name"]


# 404: well-formed, nothing published ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/01/{unknown}",
        "/01/{draft}",  # a product that was submitted but never approved
        "/01/{draft}/10/D2",  # a published event does not make a draft product public
        "/01/{gtin}/10/NOT-YET",  # the lot's only event is unpublished
        "/01/{gtin}/10/INVENTED",  # a lot nobody recorded
        "/01/{gtin}/21/S2",
        "/00/{other_sscc}",
        "/414/{other_gln}",
    ],
)
def test_well_formed_but_unknown_is_404(client: TestClient, world: World, path: str) -> None:
    url = path.format(
        unknown=with_check_digit("8930009999999"),
        draft=world.draft.gtin,
        gtin=world.gtin,
        other_sscc=with_check_digit("38930001" + "000000002"),
        other_gln=with_check_digit("893000100099"),
    )
    for headers in (JSON, BROWSER):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
    assert "nháp" not in response.text.lower()


def _bad_check(gtin: str) -> str:
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


# 400: malformed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/01/{bad_check}", "check_digit"),
        ("/01/12345678901", "key_format"),
        ("/10/L1/01/{gtin}", "qualifier_before_key"),
        ("/21/S1", "qualifier_before_key"),
        ("/01/{gtin}/21/S1/10/VT-0610", "qualifier_order"),
        ("/01/{gtin}/10/VT-0610/22/RED", "qualifier_order"),
        ("/01/{gtin}/10/A/10/B", "repeated"),
        ("/01/{gtin}/10//21/x", "empty_value"),
        ("/01/{gtin}/10/L%7E1", "bad_character"),
        ("/01/{gtin}/17/261231", "attribute_in_path"),
        ("/01/{gtin}?10=VT-0610", "key_in_query"),
        ("/01/{gtin}?17=261399", "bad_format"),
        ("/00/{gtin}", "key_format"),
    ],
)
def test_malformed_is_400_problem_json(
    client: TestClient, world: World, path: str, code: str
) -> None:
    url = path.format(gtin=world.gtin, bad_check=_bad_check(world.gtin))
    response = client.get(url, headers=JSON)
    assert response.status_code == 400, url
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/invalid-digital-link"
    assert [e["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["detail"]


def test_an_encoded_slash_in_a_lot_is_a_value_not_a_separator(
    client: TestClient, world: World
) -> None:
    response = client.get(f"/01/{world.gtin}/10/VT%2F0610", headers=JSON)
    assert response.status_code == 404  # well-formed: lot "VT/0610", which nobody recorded


def test_a_browser_gets_a_400_page_in_vietnamese(client: TestClient, world: World) -> None:
    response = client.get(f"/01/{world.gtin}/21/S1/10/VT-0610", headers=BROWSER)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    page = html.fromstring(response.text)
    assert page.xpath("//h1")
    assert page.xpath("//li/code[text()='/path']")


def test_english_on_request(client: TestClient, world: World) -> None:
    url = f"/01/{_bad_check(world.gtin)}?x=1"
    response = client.get(url, headers={**JSON, "Accept-Language": "en"})
    assert response.status_code == 400
    assert "check digit" in response.json()["errors"][0]["detail"]


def test_head_is_answered_like_get(client: TestClient, world: World) -> None:
    assert client.head(f"/01/{world.gtin}", headers=BROWSER).status_code == 200
    assert client.head(f"/01/{world.gtin}/10/A/10/B", headers=BROWSER).status_code == 400


def test_cors_preflight(client: TestClient) -> None:
    response = client.options(f"/01/{GTIN_EXAMPLE}")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "GET" in response.headers["access-control-allow-methods"]


def test_unpublished_edits_of_a_published_product_are_not_shown(
    client: TestClient, db_session: Session, world: World
) -> None:
    data = ProductIn.model_validate(
        {"gtin": world.gtin, "name_vi": "Tên nháp chưa duyệt", "sector": "agriculture"}
    )
    registry_service.update_product(
        db_session, actor=f.ADMIN, product_id=world.product.id, data=data
    )
    db_session.commit()
    response = client.get(f"/01/{world.gtin}/22/RED", headers=BROWSER)
    assert response.status_code == 200  # a CPV is accepted and does not change the lookup
    assert "Tên nháp" not in response.text
    assert "Vải thiều Lục Ngạn" in response.text


def test_the_resolver_is_in_the_openapi_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/01/{tail}" in paths
    assert "/.well-known/gs1resolver" in paths
    assert "/10/{tail}" not in paths


def test_the_status_apis_refuse_malformed_links(client: TestClient, world: World) -> None:
    response = client.get(f"/api/resolver/recall-status/01/{world.gtin}/21/S1/10/VT-0610")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "qualifier_order"
