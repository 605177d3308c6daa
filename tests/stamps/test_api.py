"""The stamps API and pages, end to end through HTTP: review, background issuance with
progress, downloads, activation, errors next to fields, another enterprise's 404s."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from typing import TYPE_CHECKING, Any

import zxingcpp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader

import factories as f
from txng.accounts.roles import Role, Sector
from txng.models import StampRequest
from txng.resolver import dl

if TYPE_CHECKING:
    from conftest import World  # the fixture of tests/stamps/conftest.py


def _as(app: FastAPI, email: str) -> tuple[TestClient, dict[str, str]]:
    c = TestClient(app)
    f.login(c, email)
    return c, {"X-CSRF-Token": c.cookies["txng_csrf"]}


def _request(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/stamps/requests", json=body, headers=f.bearer(key))
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def _approve(app: FastAPI, world: World, review_item_id: int) -> None:
    reviewer = f.user(world.db, role=Role.SECTOR_REVIEWER, sector=Sector.AGRICULTURE)
    world.db.commit()
    c, csrf = _as(app, reviewer.email)
    decision = c.post(
        f"/api/v1/review/items/{review_item_id}/decision", json={"action": "approve"}, headers=csrf
    )
    assert decision.status_code == 200, decision.text


def test_request_review_issue_download_and_activate(
    client: TestClient, app: FastAPI, world: World
) -> None:
    world.declare_lot("PS-20260601", 100)
    world.db.commit()
    key = world.ent.key
    req = _request(
        client,
        key,
        {
            "product_id": world.product.id,
            "quantity": 30,
            "with_pin": True,
            "label_template": "a4-4x10",
        },
    )
    assert req["state"] == "submitted"
    assert req["review_item_id"] is not None
    _approve(app, world, req["review_item_id"])
    got = client.get(f"/api/v1/stamps/requests/{req['id']}", headers=f.bearer(key)).json()
    assert (got["state"], got["issued_count"]) == ("issued", 30)

    page = client.get(
        f"/api/v1/stamps/requests/{req['id']}/stamps?limit=20", headers=f.bearer(key)
    ).json()
    assert len(page["items"]) == 20
    stamp = page["items"][0]
    assert stamp["uri"].startswith("http://testserver/01/")
    parsed = dl.parse(stamp["uri"].removeprefix("http://testserver"))
    assert parsed.qualifier("21") == stamp["serial"]
    rest = client.get(
        f"/api/v1/stamps/requests/{req['id']}/stamps?after={page['next_after']}&limit=20",
        headers=f.bearer(key),
    ).json()
    assert len(rest["items"]) == 10
    assert rest["next_after"] is None

    png = client.get(f"/api/v1/stamps/{stamp['id']}/qr.png?scale=4", headers=f.bearer(key))
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [r.text for r in decoded] == [stamp["uri"]]
    svg = client.get(f"/api/v1/stamps/{stamp['id']}/qr.svg", headers=f.bearer(key))
    assert svg.headers["content-type"] == "image/svg+xml"

    pdf = client.get(f"/api/v1/stamps/requests/{req['id']}/sheet.pdf", headers=f.bearer(key))
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1  # 30 labels on a 4 × 10 sheet
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", text)) == 30
    assert "Vải thiều tươi Lục Ngạn" in " ".join(text.split())  # wrapped on the label
    assert (
        client.get(
            f"/api/v1/stamps/requests/{req['id']}/sheet.pdf?part=2", headers=f.bearer(key)
        ).status_code
        == 422
    )

    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    f"/api/v1/stamps/requests/{req['id']}/codes.csv", headers=f.bearer(key)
                ).text
            )
        )
    )
    assert len(rows) == 30
    assert all(len(r["pin"]) == 6 for r in rows)
    archive = client.get(f"/api/v1/stamps/requests/{req['id']}/codes.zip", headers=f.bearer(key))
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert len([n for n in z.namelist() if n.endswith(".svg")]) == 30

    activation = client.post(
        "/api/v1/stamps/activations",
        json={"lot": "PS-20260601", "request_id": req["id"], "count": 25},
        headers=f.bearer(key),
    )
    assert activation.status_code == 422  # 100 kg at 5 kg a stamp covers 20
    problem = activation.json()
    assert problem["errors"][0]["pointer"] == "/lot"
    activation = client.post(
        "/api/v1/stamps/activations",
        json={"lot": "PS-20260601", "request_id": req["id"], "count": 20},
        headers=f.bearer(key),
    )
    assert activation.status_code == 201, activation.text
    assert activation.json()["carried"] == 20
    one = client.get(f"/api/v1/stamps/{stamp['id']}", headers=f.bearer(key)).json()
    assert (one["status"], one["lot"]) == ("active", "PS-20260601")


def test_another_enterprise_gets_404_everywhere(
    client: TestClient, app: FastAPI, world: World
) -> None:
    request_id = world.issued(3)
    world.db.commit()
    key = world.other.key
    stamps = client.get(
        f"/api/v1/stamps/requests/{request_id}/stamps", headers=f.bearer(world.ent.key)
    ).json()["items"]
    for path in (
        f"/api/v1/stamps/requests/{request_id}",
        f"/api/v1/stamps/requests/{request_id}/codes.csv",
        f"/api/v1/stamps/requests/{request_id}/sheet.pdf",
        f"/api/v1/stamps/{stamps[0]['id']}",
        f"/api/v1/stamps/{stamps[0]['id']}/qr.png",
    ):
        assert client.get(path, headers=f.bearer(key)).status_code == 404, path
    response = client.post(
        "/api/v1/stamps/activations",
        json={"lot": "L1", "codes": [stamps[0]["serial"]]},
        headers=f.bearer(key),
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/stamps/status/deactivate",
        json={"codes": [stamps[0]["serial"]], "reason": "x"},
        headers=f.bearer(key),
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/stamps/requests",
        json={"product_id": world.product.id, "quantity": 5},
        headers=f.bearer(key),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/product_id"


def test_validation_errors_point_at_their_fields(client: TestClient, world: World) -> None:
    world.db.commit()
    response = client.post(
        "/api/v1/stamps/requests",
        json={"product_id": world.product.id, "quantity": 0, "label_template": "a5"},
        headers=f.bearer(world.ent.key),
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/quantity", "/label_template"}
    response = client.post(
        "/api/v1/stamps/activations", json={"lot": "L1"}, headers=f.bearer(world.ent.key)
    )
    assert response.status_code == 422


def test_a_large_request_is_issued_in_the_background_with_progress(
    client: TestClient, app: FastAPI, world: World
) -> None:
    world.db.commit()
    key = world.ent.key
    req = _request(client, key, {"product_id": world.product.id, "quantity": 12_000})
    _approve(app, world, req["review_item_id"])
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = client.get(
            f"/api/v1/stamps/requests/{req['id']}/progress", headers=f.bearer(key)
        ).json()
        seen.append(progress["issued_count"])
        if progress["state"] == "issued":
            break
        time.sleep(0.05)
    assert progress == {
        "state": "issued",
        "quantity": 12_000,
        "issued_count": 12_000,
        "percent": 100,
    }
    assert seen == sorted(seen)


def test_pages_request_then_activate_with_errors_next_to_fields(
    client: TestClient, app: FastAPI, world: World
) -> None:
    world.db.commit()
    f.login(client, world.ent.admin.email)
    assert 'href="/my/stamps"' in client.get("/my/organisation").text
    token = f.csrf_of(client, "/my/stamps/new")
    response = client.post(
        "/my/stamps/new",
        data={
            "csrf_token": token,
            "product_id": str(world.product.id),
            "quantity": "abc",
            "label_template": "a4-3x8",
        },
    )
    assert response.status_code == 422
    assert 'aria-describedby="e-quantity"' in response.text
    response = client.post(
        "/my/stamps/new",
        data={
            "csrf_token": token,
            "product_id": str(world.product.id),
            "quantity": "12",
            "label_template": "roll-50x30",
            "with_pin": "1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    detail_url = response.headers["location"]
    page = client.get(detail_url).text
    assert "Vải thiều tươi Lục Ngạn" in page
    request_id = int(detail_url.rsplit("/", 1)[1])
    listing = client.get("/my/stamps").text
    assert f'href="/my/stamps/{request_id}"' in listing
    world.approve(request_id)
    world.db.commit()
    page = client.get(detail_url).text
    assert f"/api/v1/stamps/requests/{request_id}/sheet.pdf?part=1" in page
    assert "<progress" in page
    response = client.post(
        f"{detail_url}/activate",
        data={"csrf_token": token, "lot": "NO-SUCH-LOT", "mode": "count", "count": "2"},
    )
    assert response.status_code == 422
    assert 'id="e-lot"' in response.text
    world.declare_lot("LOT-7", 50)
    world.db.commit()
    response = client.post(
        f"{detail_url}/activate",
        data={"csrf_token": token, "lot": "LOT-7", "mode": "count", "count": "2"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert page.count("LOT-7") >= 2
    response = client.post(
        f"{detail_url}/status",
        data={"csrf_token": token, "action": "lost", "codes": "ZZZZ-ZZZZ-ZZ", "reason": "x"},
    )
    assert response.status_code == 422
    assert 'id="e-status-codes"' in response.text
    assert "ZZZZ-ZZZZ-ZZ" in response.text.split('id="e-status-codes"')[1].split("</p>")[0]


def _wait_issued(client: TestClient, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        progress: dict[str, Any] = client.get(url).json()
        if progress["state"] not in ("approved", "issuing") or time.monotonic() > deadline:
            return progress
        time.sleep(0.05)


def test_a_failed_issuance_can_be_continued_from_the_page(client: TestClient, world: World) -> None:
    request_id = world.request(6000)
    world.approve(request_id)  # issued by a thread once committed
    req = world.db.get(StampRequest, request_id)
    assert req is not None
    req.state = "failed"  # as the thread leaves it when the database went away
    world.db.commit()
    f.login(client, world.ent.admin.email)
    progress_url = f"/my/stamps/{request_id}/progress.json"
    assert _wait_issued(client, progress_url)["state"] == "failed"
    page = client.get(f"/my/stamps/{request_id}").text
    assert "Continue issuing" in page or "Tiếp tục" in page
    token = f.csrf_of(client, f"/my/stamps/{request_id}")
    response = client.post(
        f"/my/stamps/{request_id}/resume", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    progress = _wait_issued(client, progress_url)
    assert (progress["state"], progress["issued_count"]) == ("issued", 6000)
