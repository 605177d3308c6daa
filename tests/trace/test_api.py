"""The trace API: one graph whatever the identifier's spelling, problems for bad or hidden ids,
the recall spreadsheet as XLSX and CSV, one step back / forward."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests.trace import chains

import factories as f
from txng.accounts.roles import Role
from txng.models import AuditEntry, EpcisEvent
from txng.models.base import utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FSMA_HEADER = [
    "Traceability lot code",
    "GTIN",
    "Product description",
    "Quantity",
    "Unit of measure",
    "Critical tracking event",
    "Event date",
    "Event time",
    "Location description",
    "Location identifier",
    "Ship-from location",
    "Ship-to location",
    "Reference document type",
    "Reference document number",
    "Input traceability lot codes",
    "Recorded by",
    "EPCIS event ID",
]


@dataclass
class Built:
    world: chains.World
    lychee: chains.Lychee
    noodles: chains.Noodles


@pytest.fixture
def built(db_session: Session) -> Built:
    w = chains.world(db_session)
    built = Built(w, chains.lychee(db_session, w), chains.noodles(db_session, w))
    db_session.commit()
    return built


def _trace(client: TestClient, key: str | None, **params: Any) -> Any:
    headers = f.bearer(key) if key else {}
    return client.get("/api/trace", params=params, headers=headers)


def _pointer(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["pointer"] for e in response.json()["errors"]]


# one graph, three spellings ----------------------------------------------------------------


def test_urn_digital_link_and_gtin_serial_give_the_same_graph(
    client: TestClient, built: Built
) -> None:
    ly, key = built.lychee, built.world.distributor.key
    box_urn = ly.boxes[0]
    serial = box_urn.rsplit(".", 1)[-1]
    elsewhere = chains.dl(box_urn).replace("https://id.gs1.org/", "https://qr.dongoi.vn/p/")

    by_urn = _trace(client, key, id=box_urn, direction="backward")
    by_dl = _trace(client, key, id=elsewhere, direction="backward")
    by_gtin = _trace(client, key, gtin=ly.box_gtin, serial=serial, direction="backward")

    assert by_urn.status_code == 200, by_urn.text
    assert by_urn.json() == by_dl.json() == by_gtin.json()
    graph = by_urn.json()
    # Ids are EPC URNs where the registry knows the company prefix.
    assert graph["start"] == box_urn
    ids = {n["id"] for n in graph["nodes"]}
    assert {box_urn, ly.harvest_lot_urn, ly.pallet_urn} <= ids
    assert graph["truncated"] is False


def test_gtin_and_lot_is_the_lot_urn(client: TestClient, built: Built) -> None:
    ly, key = built.lychee, built.world.packer.key
    gtin = ly.harvest_lot.split("/")[4]

    by_urn = _trace(client, key, id=ly.harvest_lot_urn, direction="forward")
    by_gtin = _trace(client, key, gtin=gtin, lot="VT-0610", direction="forward")

    assert by_urn.status_code == 200, by_urn.text
    assert by_urn.json() == by_gtin.json()


def test_the_graph_says_who_held_what_where_and_when(client: TestClient, built: Built) -> None:
    w, ly = built.world, built.lychee

    response = _trace(client, w.packer.key, id=ly.harvest_lot_urn, direction="forward")

    graph = response.json()
    nodes = {n["id"]: n for n in graph["nodes"]}
    lot = nodes[ly.harvest_lot_urn]
    assert lot["kind"] == "lot"
    assert lot["depth"] == 0
    assert lot["organisation"] == {"id": w.farm.org.id, "name": "HTX Vải thiều Lục Ngạn"}
    assert lot["location"]["id"] == w.farm.location
    assert lot["location"]["name"] == "Vùng trồng vải Đồng Mới"
    assert lot["time"].startswith("2026-06-09T23:00:00")  # 06:00 in Bắc Giang
    assert lot["quantity"] == {"value": 500.0, "uom": "KGM"}
    box = nodes[ly.boxes[0]]
    assert box["kind"] == "item"
    assert box["organisation"]["name"] == "Công ty CP Đóng gói Lục Ngạn"
    assert box["lots"] == [ly.box_lot]
    supermarket = nodes[w.supermarket.location]
    assert supermarket["kind"] == "location"
    assert supermarket["organisation"] == {"id": w.supermarket.org.id, "name": "Siêu thị Bắc Giang"}
    assert supermarket["location"]["name"] == "Siêu thị Bắc Giang - cơ sở 1"
    edges = {(e["from"], e["to"], e["type"]) for e in graph["edges"]}
    assert (ly.harvest_lot_urn, ly.boxes[0], "transformation") in edges
    assert (ly.boxes[0], ly.pallet_urn, "aggregation") in edges
    assert (ly.pallet_urn, w.distributor.location, "shipping") in edges
    assert (ly.pallet_urn, w.supermarket.location, "shipping") in edges
    # The supermarket is two steps away from the packing house: its receipt is not shown.
    assert (ly.pallet_urn, w.supermarket.location, "receiving") not in edges
    assert all(e["event_id"].startswith("ni:///sha-256;") for e in graph["edges"])


def test_limits_are_honoured_and_reported(client: TestClient, built: Built) -> None:
    ly, key = built.lychee, built.world.packer.key

    shallow = _trace(client, key, id=ly.harvest_lot_urn, direction="forward", max_depth=1)
    few = _trace(client, key, id=ly.harvest_lot_urn, direction="forward", max_nodes=2)
    too_deep = _trace(client, key, id=ly.harvest_lot_urn, max_depth=51)

    assert shallow.json()["truncated"] is True
    assert ly.pallet_urn not in {n["id"] for n in shallow.json()["nodes"]}
    assert few.json()["truncated"] is True
    assert len(few.json()["nodes"]) == 2
    assert too_deep.status_code == 422
    assert _pointer(too_deep) == ["/query/max_depth"]


# who may see -------------------------------------------------------------------------------


def test_hidden_and_unknown_ids_are_not_found(client: TestClient, built: Built) -> None:
    ly = built.lychee
    never_made = chains.lgtin_urn(built.world.farm.prefix, "00001", "VT-9999")

    unknown = _trace(client, built.world.packer.key, id=never_made)
    outsider = _trace(client, built.world.outsider.key, id=ly.harvest_lot_urn)
    public = _trace(client, None, id=ly.harvest_lot_urn)

    for response in (unknown, outsider, public):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 404


def test_the_public_sees_what_was_published(
    client: TestClient, db_session: Session, built: Built
) -> None:
    ly = built.lychee
    db_session.execute(
        update(EpcisEvent)
        .where(EpcisEvent.event_id == ly.event_ids["receive_supermarket"])
        .values(published_at=utcnow())
    )
    db_session.commit()

    public = _trace(client, None, id=ly.pallet_urn)
    admin_key = built.world.supermarket.key
    member = _trace(client, admin_key, id=ly.pallet_urn)

    assert public.status_code == 200
    events = {e["event_id"] for e in public.json()["edges"]}
    assert events == {ly.event_ids["receive_supermarket"]}
    assert len(member.json()["nodes"]) > len(public.json()["nodes"])


# malformed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"id": "urn:epc:id:sgtin:8930002.000010"},  # no serial
        {"id": "https://id.gs1.org/01/08930002000100/21/1"},  # wrong check digit
        {"id": "hộp vải số 1"},
        {"id": "urn:epc:id:sgln:8930002.00002.0"},  # a place cannot start a trace
        {},
    ],
)
def test_a_malformed_id_is_a_problem_pointing_at_it(
    client: TestClient, built: Built, params: dict[str, str]
) -> None:
    response = _trace(client, built.world.packer.key, **params)

    assert response.status_code == 422
    assert _pointer(response) == ["/query/id"]


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"gtin": "08930002000108", "lot": "L1"}, "/query/gtin"),  # wrong check digit
        ({"gtin": "08930002000109"}, "/query/lot"),
        ({"gtin": "08930002000109", "lot": "L1", "serial": "1"}, "/query/lot"),
        ({"id": "urn:epc:id:sgtin:8930002.000010.1", "gtin": "08930002000109"}, "/query/gtin"),
        ({"id": "urn:epc:id:sgtin:8930002.000010.1", "direction": "sideways"}, "/query/direction"),
    ],
)
def test_other_bad_parameters_point_at_themselves(
    client: TestClient, built: Built, params: dict[str, str], pointer: str
) -> None:
    response = _trace(client, built.world.packer.key, **params)

    assert response.status_code == 422
    assert _pointer(response) == [pointer]


# recall ------------------------------------------------------------------------------------


def _recall(client: TestClient, key: str | None, **params: str) -> Any:
    return client.get("/api/recall", params=params, headers=f.bearer(key) if key else {})


def _inspector(client: TestClient, db_session: Session) -> None:
    """Sign the client in as a provincial inspector, who sees every event."""
    user = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    f.login(client, user.email)


def test_the_recall_spreadsheet_opens_with_one_row_per_cte(
    client: TestClient, db_session: Session, built: Built
) -> None:
    ly = built.lychee
    _inspector(client, db_session)

    response = _recall(client, None, id=ly.harvest_lot_urn)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "recall-VT-0610.xlsx" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for r in book["CTE"].iter_rows(values_only=True)]
    assert rows[0] == FSMA_HEADER
    assert [(r[5], r[0]) for r in rows[1:]] == [
        ("Harvesting", "VT-0610"),
        ("Shipping", "VT-0610"),
        ("Receiving", "VT-0610"),
        ("Initial packing", "DG-0612"),
        ("Shipping", "DG-0612"),
        ("Receiving", "DG-0612"),
        ("Shipping", "DG-0612"),
        ("Receiving", "DG-0612"),
    ]
    assert rows[1][3:5] == [500, "KGM"]
    assert rows[4][3:5] == [4, "EA"]
    scope = [list(r) for r in book["Scope"].iter_rows(values_only=True)]
    assert {r[1] for r in scope if r[0] == "item"} == set(ly.boxes)
    assert {r[1] for r in scope if r[0] == "logistic_unit"} == {ly.pallet_urn}
    assert {r[2] for r in scope if r[0] == "receiving organisation"} == {
        "Công ty CP Đóng gói Lục Ngạn",
        "Công ty Phân phối Kinh Bắc",
        "Siêu thị Bắc Giang",
    }
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "trace.recall_exported")
    ).one()
    assert audit.after is not None
    assert audit.after["rows"] == 8


def test_the_recall_csv_has_the_same_rows(
    client: TestClient, db_session: Session, built: Built
) -> None:
    ly = built.lychee
    _inspector(client, db_session)

    xlsx = _recall(client, None, id=ly.harvest_lot_urn)
    response = _recall(client, None, id=ly.harvest_lot_urn, format="csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-recall-rows"] == "8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == FSMA_HEADER
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    expected = [
        ["" if v is None else str(v) for v in r]
        for r in book["CTE"].iter_rows(min_row=2, values_only=True)
    ]
    assert rows[1:] == expected


def test_the_farm_recalls_as_far_as_its_partners_let_it_see(
    client: TestClient, built: Built
) -> None:
    ly = built.lychee

    response = _recall(client, built.world.farm.key, id=ly.harvest_lot_urn, format="csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    # Its own events and its customer's (the packing house); the distributor is two steps away.
    assert [r["Critical tracking event"] for r in rows] == [
        "Harvesting",
        "Shipping",
        "Receiving",
        "Initial packing",
        "Shipping",
    ]
    assert {r["Recorded by"] for r in rows} == {
        "HTX Vải thiều Lục Ngạn",
        "Công ty CP Đóng gói Lục Ngạn",
    }


def test_recall_needs_a_caller_and_a_visible_lot(client: TestClient, built: Built) -> None:
    ly = built.lychee

    anonymous = _recall(client, None, id=ly.harvest_lot_urn)
    outsider = _recall(client, built.world.outsider.key, id=ly.harvest_lot_urn)
    malformed = _recall(client, built.world.farm.key, id="urn:epc:class:lgtin:893")

    assert anonymous.status_code == 401
    assert outsider.status_code == 404
    assert malformed.status_code == 422
    assert _pointer(malformed) == ["/query/id"]


# one step ----------------------------------------------------------------------------------


def test_one_step_back_and_forward_over_the_api(client: TestClient, built: Built) -> None:
    w = built.world

    response = client.get(
        f"/api/trace/one-step/{w.distributor.org.id}", headers=f.bearer(w.distributor.key)
    )
    missing = client.get("/api/trace/one-step/999999", headers=f.bearer(w.distributor.key))

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["organisation"]["name"] == "Công ty Phân phối Kinh Bắc"
    assert {p["organisation"]["name"] for m in view["suppliers"] for p in m["partners"]} == {
        "Công ty CP Đóng gói Lục Ngạn"
    }
    assert {p["organisation"]["name"] for m in view["customers"] for p in m["partners"]} == {
        "Siêu thị Bắc Giang"
    }
    shipped = [g["id"] for m in view["customers"] for g in m["goods"]]
    assert built.lychee.pallet_urn in shipped
    assert missing.status_code == 404


def test_the_trace_api_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert "/api/trace" in schema["paths"]
    assert "/api/recall" in schema["paths"]
    edge = schema["components"]["schemas"]["TraceEdge"]
    assert {"from", "to", "event_id", "type"} <= edge["properties"].keys()
    node = schema["components"]["schemas"]["TraceNode"]
    assert {"id", "kind", "organisation", "location", "time", "quantity"} <= (
        node["properties"].keys()
    )
