"""The review API and pages: scoping, reasons, conflicts, bulk results, published events."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role, Sector
from txng.models import CaptureJob
from txng.review import service as review_service


def _as(app: FastAPI, email: str) -> tuple[TestClient, dict[str, str]]:
    c = TestClient(app)
    f.login(c, email)
    return c, {"X-CSRF-Token": c.cookies["txng_csrf"]}


def _submit(client: TestClient, key: str, product_id: int) -> dict[str, Any]:
    response = client.post(f"/api/v1/review/products/{product_id}/submit", headers=f.bearer(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_reviewer_cannot_approve_an_agricultural_product(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    lychee = f.product(db_session, organisation_id=ent.org.id)
    health = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.HEALTH)
    agri = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE)
    db_session.commit()
    item = _submit(client, ent.key, lychee.id)
    assert item["state"] == "submitted"

    c, csrf = _as(app, health.email)
    assert c.get("/api/v1/review/items").json()["items"] == []
    assert c.get(f"/api/v1/review/items/{item['id']}").status_code == 404
    decision = c.post(
        f"/api/v1/review/items/{item['id']}/decision", json={"action": "approve"}, headers=csrf
    )
    assert decision.status_code == 404

    c, csrf = _as(app, agri.email)
    assert [i["id"] for i in c.get("/api/v1/review/items").json()["items"]] == [item["id"]]
    decision = c.post(
        f"/api/v1/review/items/{item['id']}/decision", json={"action": "approve"}, headers=csrf
    )
    assert decision.status_code == 200, decision.text
    assert decision.json()["state"] == "published"


def test_the_owner_cannot_approve_its_own_submission(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    p = f.product(db_session, organisation_id=ent.org.id)
    db_session.commit()
    item = _submit(client, ent.key, p.id)
    response = client.post(
        f"/api/v1/review/items/{item['id']}/decision",
        json={"action": "approve"},
        headers=f.bearer(ent.key),
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/review/items/{item['id']}/decision",
        json={"action": "withdraw"},
        headers=f.bearer(ent.key),
    )
    assert response.json()["state"] == "withdrawn"


def test_commune_officer_sees_only_their_communes(app: FastAPI, db_session: Session) -> None:
    farm = f.enterprise(db_session, name="HTX Lục Ngạn", commune=f.LUC_NGAN)
    shop = f.enterprise(db_session, name="Kinh Bắc", commune=f.KINH_BAC)
    officer = f.user(db_session, role=Role.COMMUNE_OFFICER, communes=(f.KINH_BAC,))
    p1 = f.product(db_session, organisation_id=farm.org.id)
    p2 = f.product(db_session, organisation_id=shop.org.id)
    db_session.commit()
    client = TestClient(app)
    farm_item = _submit(client, farm.key, p1.id)
    shop_item = _submit(client, shop.key, p2.id)
    c, _ = _as(app, officer.email)
    queue = c.get("/api/v1/review/items").json()
    assert [i["id"] for i in queue["items"]] == [shop_item["id"]]
    assert queue["counts"]["submitted"] == 1
    assert c.get(f"/api/v1/review/items/{farm_item['id']}").status_code == 404
    page = c.get("/review")
    assert page.status_code == 200
    assert f"/review/items/{shop_item['id']}" in page.text
    assert f"/review/items/{farm_item['id']}" not in page.text


def test_reject_needs_a_reason_and_illegal_transition_is_409(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    p = f.product(db_session, organisation_id=ent.org.id)
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    item = _submit(client, ent.key, p.id)
    c, csrf = _as(app, admin.email)
    url = f"/api/v1/review/items/{item['id']}/decision"
    response = c.post(url, json={"action": "reject"}, headers=csrf)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in response.json()["errors"]] == ["/reason"]
    response = c.post(url, json={"action": "reject", "reason": "Thiếu ảnh nhãn"}, headers=csrf)
    assert response.json()["state"] == "rejected"
    response = c.post(url, json={"action": "approve"}, headers=csrf)
    assert response.status_code == 409
    assert response.json()["type"].endswith("conflict")


def test_bulk_approve_reports_each_item(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    p1 = f.product(db_session, organisation_id=ent.org.id)
    p2 = f.product(db_session, organisation_id=ent.org.id, sector=Sector.HEALTH)
    agri = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE)
    db_session.commit()
    a = _submit(client, ent.key, p1.id)
    b = _submit(client, ent.key, p2.id)
    c, csrf = _as(app, agri.email)
    response = c.post(
        "/api/v1/review/bulk-approve", json={"ids": [a["id"], b["id"], 999999]}, headers=csrf
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["approved"], body["failed"]) == (1, 2)
    assert [(r["id"], r["ok"], r["status"]) for r in body["results"]] == [
        (a["id"], True, 200),
        (b["id"], False, 404),
        (999999, False, 404),
    ]
    assert body["results"][0]["state"] == "published"
    every = c.get("/api/v1/review/items", params={"state": "all"}).json()
    assert [i["id"] for i in every["items"]] == [a["id"]]
    assert every["counts"]["published"] == 1
    assert c.get("/api/v1/review/items", params={"state": "nonsense"}).status_code == 422


def test_diff_and_comments_through_the_api(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    p = f.product(db_session, organisation_id=ent.org.id, name="Mật ong")
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    first = _submit(client, ent.key, p.id)
    c, csrf = _as(app, admin.email)
    c.post(f"/api/v1/review/items/{first['id']}/decision", json={"action": "approve"}, headers=csrf)
    patch = client.get(f"/api/v1/products/{p.id}", headers=f.bearer(ent.key)).json()
    body = {k: patch[k] for k in ("gtin", "name_vi", "sector")} | {"name_vi": "Mật ong rừng"}
    updated = client.put(f"/api/v1/products/{p.id}", json=body, headers=f.bearer(ent.key))
    assert updated.status_code == 200, updated.text
    second = _submit(client, ent.key, p.id)
    detail = c.get(f"/api/v1/review/items/{second['id']}").json()
    assert detail["published_version"] == 1
    changed = [ch for ch in detail["changes"] if ch["kind"] != "same"]
    assert changed == [
        {"field": "name_vi", "before": "Mật ong", "after": "Mật ong rừng", "kind": "changed"}
    ]
    assert detail["actions"] == ["approve", "reject"]
    posted = c.post(
        f"/api/v1/review/items/{second['id']}/comments",
        json={"body": "Bổ sung ảnh"},
        headers=csrf,
    )
    assert posted.status_code == 201
    mine = client.get(f"/api/v1/review/items/{second['id']}/comments", headers=f.bearer(ent.key))
    assert [x["body"] for x in mine.json()] == ["Bổ sung ảnh"]


def _document(serial: str) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "action": "OBSERVE",
                    "eventTime": "2026-06-10T07:30:00.000+07:00",
                    "eventTimeZoneOffset": "+07:00",
                    "epcList": [f"urn:epc:id:sgtin:8930001.012345.{serial}"],
                    "bizStep": "shipping",
                }
            ]
        },
    }


def _public_epcs(client: TestClient) -> list[str]:
    anonymous = TestClient(client.app)
    response = anonymous.get("/epcis/events", params={"perPage": "100"})
    assert response.status_code == 200, response.text
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return sorted(epc for e in events for epc in e.get("epcList", []))


def _capture(client: TestClient, db: Session, key: str, serial: str) -> int:
    response = client.post(
        "/epcis/capture",
        content=json.dumps(_document(serial)),
        headers={**f.bearer(key), "Content-Type": "application/ld+json"},
    )
    assert response.status_code == 202, response.text
    db.expire_all()
    job = db.scalars(select(CaptureJob).order_by(CaptureJob.id.desc())).first()
    assert job is not None
    item = review_service.on_capture(db, job)  # the capture service's hook, called by hand
    assert item is not None
    db.commit()
    return item.id


def test_publishing_an_event_batch_makes_its_events_public(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    inspector = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    first = _capture(client, db_session, ent.key, "1")
    second = _capture(client, db_session, ent.key, "2")
    assert _public_epcs(client) == []
    c, csrf = _as(app, admin.email)
    approved = c.post(
        f"/api/v1/review/items/{first}/decision", json={"action": "approve"}, headers=csrf
    )
    assert approved.json()["state"] == "published"
    assert _public_epcs(client) == ["urn:epc:id:sgtin:8930001.012345.1"]
    assert review_service.is_public(db_session, entity_type="event_batch", entity_id=0) is False
    c, csrf = _as(app, inspector.email)
    recalled = c.post(
        f"/api/v1/review/items/{first}/decision",
        json={"action": "recall", "reason": "Sai số lô"},
        headers=csrf,
    )
    assert recalled.json()["state"] == "recalled"
    assert _public_epcs(client) == []
    assert c.get(f"/api/v1/review/items/{second}").json()["item"]["state"] == "submitted"


def test_trust_policy_through_the_api(
    client: TestClient, app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    c, csrf = _as(app, admin.email)
    url = f"/api/v1/review/organisations/{ent.org.id}/policy"
    assert c.get(url).json()["mode"] == "every_batch"
    denied = client.put(url, json={"mode": "trust", "trust_after": 1}, headers=f.bearer(ent.key))
    assert denied.status_code == 404
    response = c.put(url, json={"mode": "trust", "trust_after": 1}, headers=csrf)
    assert response.json() == {"organisation_id": ent.org.id, "mode": "trust", "trust_after": 1}
    first = _capture(client, db_session, ent.key, "10")
    c.post(f"/api/v1/review/items/{first}/decision", json={"action": "approve"}, headers=csrf)
    trusted = _capture(client, db_session, ent.key, "11")
    assert c.get(f"/api/v1/review/items/{trusted}").json()["item"]["auto_approved"] is True
    assert _public_epcs(client) == [
        "urn:epc:id:sgtin:8930001.012345.10",
        "urn:epc:id:sgtin:8930001.012345.11",
    ]


def test_review_pages_reject_form_shows_the_error_next_to_the_reason(
    app: FastAPI, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    p = f.product(db_session, organisation_id=ent.org.id, name="Gạo Bắc Hương")
    agri = f.user(db_session, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE)
    db_session.commit()
    owner = TestClient(app)
    f.login(owner, ent.admin.email)
    token = owner.cookies["txng_csrf"]
    assert f'action="/review/products/{p.id}/submit"' in owner.get(f"/my/products/{p.id}").text
    assert "/submit" not in owner.get("/my/products/new").text
    submitted = owner.post(
        f"/review/products/{p.id}/submit", data={"csrf_token": token}, follow_redirects=False
    )
    assert submitted.status_code == 303
    item_url = submitted.headers["location"]
    assert "Gạo Bắc Hương" in owner.get(item_url).text

    c = TestClient(app)
    f.login(c, agri.email)
    queue = c.get("/review")
    assert item_url in queue.text
    page = c.get(item_url)
    assert page.status_code == 200
    assert 'value="approve"' in page.text
    token = c.cookies["txng_csrf"]
    failed = c.post(
        f"{item_url}/decision", data={"csrf_token": token, "action": "reject", "reason": ""}
    )
    assert failed.status_code == 422
    assert 'id="e-reason"' in failed.text
    done = c.post(
        f"{item_url}/decision",
        data={"csrf_token": token, "action": "reject", "reason": "Thiếu chứng nhận"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Thiếu chứng nhận" in c.get(item_url).text
    missing = c.post(f"{item_url}/decision", data={"action": "approve"})
    assert missing.status_code == 403  # no CSRF token
