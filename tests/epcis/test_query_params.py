"""The remaining EPCIS 2.0 query parameters: error declarations, quantities, persistent
dispositions, transformation IDs, places with descendants, ILMD and extension fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import factories as f

STANDARD = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NS = "https://example.com/vn/ns/"
LOT = "urn:epc:class:lgtin:8930001.012345.L01"


def _doc(prefix: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [STANDARD, {prefix: NS}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def _object(name: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-00000000000{name}",
        "action": "OBSERVE",
        "eventTime": "2026-06-10T07:30:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:epc:id:sgtin:8930001.012345.{name}"],
        "bizStep": "shipping",
        "readPoint": {"id": "urn:epc:id:sgln:8930001.00001.0"},
    }
    event.update(extra)
    return event


def _events() -> list[dict[str, Any]]:
    one = _object(
        "1",
        action="ADD",
        bizStep="commissioning",
        epcList=[],
        quantityList=[{"epcClass": LOT, "quantity": 200, "uom": "KGM"}],
        persistentDisposition={"set": ["completeness_verified"], "unset": ["needs_replacement"]},
        ilmd={
            "ex:harvestDate": "2026-06-01T06:00:00+07:00",
            "ex:grade": "A",
            "ex:moisture": 12.5,
            "ex:details": {"ex:origin": "Đồng Tháp", "ex:plots": [{"ex:plot": "P-7"}]},
        },
        **{"ex:temperature": "4.5"},
    )
    two = _object(
        "2",
        quantityList=[{"epcClass": LOT, "quantity": 50}],
        errorDeclaration={
            "declarationTime": "2026-06-12T10:00:00+07:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:00000000-0000-4000-8000-000000000003"],
            "ex:ticket": "T-17",
        },
        **{"ex:temperature": 8, "ex:checked": True},
    )
    three = {
        "type": "TransformationEvent",
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000003",
        "eventTime": "2026-06-11T09:00:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        "transformationID": "urn:epc:id:gdti:8930001.00001.T1",
        "inputQuantityList": [{"epcClass": LOT, "quantity": 300, "uom": "KGM"}],
        "outputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:8930001.012346.L02", "quantity": 280, "uom": "KGM"}
        ],
        "bizLocation": {"id": "urn:epc:id:sgln:8930001.00002.0"},
        "persistentDisposition": {"set": ["https://ref.gs1.org/cbv/Disp-needs_replacement"]},
        "errorDeclaration": {
            "declarationTime": "2026-06-20T00:00:00Z",
            "reason": "urn:epcglobal:cbv:er:did_not_occur",
        },
        "ilmd": {
            "ex:grade": "B",
            "ex:moisture": "9",
            "ex:details": {"ex:origin": "An Giang"},
        },
    }
    return [one, two, three]


@pytest.fixture
def key(client: TestClient, db_session: Session) -> str:
    ent = f.enterprise(db_session)
    db_session.commit()
    headers = {**f.bearer(ent.key), "Content-Type": "application/ld+json"}
    for document in (
        _doc("ex", *_events()),
        # The same namespace under another prefix, in another document.
        _doc("vn", _object("4", **{"vn:temperature": 20, "vn:grade": "A"})),
    ):
        response = client.post("/epcis/capture", content=json.dumps(document), headers=headers)
        assert response.status_code == 202, response.text
        job = client.get(response.headers["Location"], headers=f.bearer(ent.key)).json()
        assert job["success"], job
    return ent.key


def _found(client: TestClient, key: str, **params: str) -> list[str]:
    response = client.get(
        "/epcis/events", params={"perPage": "100", **params}, headers=f.bearer(key)
    )
    assert response.status_code == 200, response.text
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return sorted(e["eventID"][-1] for e in events)


STANDARD_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({}, ["1", "2", "3", "4"]),
    ({"EQ_eventID": "urn:uuid:00000000-0000-4000-8000-000000000002"}, ["2"]),
    ({"EXISTS_errorDeclaration": "true"}, ["2", "3"]),
    ({"EXISTS_errorDeclaration": ""}, ["2", "3"]),
    ({"EXISTS_errorDeclaration": "false"}, ["1", "2", "3", "4"]),
    ({"GE_errorDeclarationTime": "2026-06-12T03:00:00Z"}, ["2", "3"]),
    ({"GE_errorDeclarationTime": "2026-06-12T03:00:00.001Z"}, ["3"]),
    ({"LT_errorDeclarationTime": "2026-06-20T07:00:00+07:00"}, ["2"]),
    ({"EQ_errorReason": "incorrect_data"}, ["2"]),
    ({"EQ_errorReason": "https://ref.gs1.org/cbv/ER-did_not_occur"}, ["3"]),
    ({"EQ_errorReason": "did_not_occur|incorrect_data"}, ["2", "3"]),
    ({"EQ_correctiveEventID": "urn:uuid:00000000-0000-4000-8000-000000000003"}, ["2"]),
    ({"EQ_correctiveEventID": "urn:uuid:00000000-0000-4000-8000-000000000009"}, []),
    ({"EQ_quantity": "200"}, ["1"]),
    ({"EQ_quantity": "280.0"}, ["3"]),
    ({"GT_quantity": "200"}, ["3"]),
    ({"GE_quantity": "200"}, ["1", "3"]),
    ({"LT_quantity": "200"}, ["2"]),
    ({"LE_quantity": "200", "GT_quantity": "50"}, ["1"]),
    ({"EQ_transformationID": "urn:epc:id:gdti:8930001.00001.T1"}, ["3"]),
    ({"EQ_persistentDisposition_set": "completeness_verified"}, ["1"]),
    ({"EQ_persistentDisposition_set": "needs_replacement"}, ["3"]),
    ({"EQ_persistentDisposition_unset": "urn:epcglobal:cbv:disp:needs_replacement"}, ["1"]),
    ({"WD_readPoint": "urn:epc:id:sgln:8930001.00001.0"}, ["1", "2", "4"]),
    ({"WD_bizLocation": "https://id.gs1.org/414/8930001000025"}, ["3"]),
]

FIELD_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"EQ_ILMD_ex:grade": "A"}, ["1"]),
    ({"EQ_ILMD_ex:grade": "A|B"}, ["1", "3"]),
    ({"EQ_ILMD_ex:moisture": "12.50"}, ["1"]),  # a JSON number, compared as a number
    ({"EQ_ILMD_ex:moisture": "9"}, ["3"]),  # a numeric string (as XML captures give)
    ({"GT_ILMD_ex:moisture": "9"}, ["1"]),
    ({"LE_ILMD_ex:moisture": "12.5"}, ["1", "3"]),
    ({"GE_ILMD_ex:harvestDate": "2026-05-31T23:00:00Z"}, ["1"]),
    ({"LT_ILMD_ex:harvestDate": "2026-05-31T23:00:00Z"}, []),
    ({"EXISTS_ILMD_ex:harvestDate": ""}, ["1"]),
    ({"EXISTS_ILMD_ex:details": ""}, ["1", "3"]),
    ({"EQ_INNER_ILMD_ex:origin": "An Giang"}, ["3"]),
    ({"EQ_INNER_ILMD_ex:plot": "P-7"}, ["1"]),  # inside an array, two levels down
    ({"EXISTS_INNER_ILMD_ex:origin": ""}, ["1", "3"]),
    ({"EQ_ILMD_ex:origin": "An Giang"}, []),  # not a top-level ILMD field
    ({"EQ_ex:temperature": "8"}, ["2"]),
    ({"GE_ex:temperature": "4.5"}, ["1", "2"]),
    ({"LT_ex:temperature": "5"}, ["1"]),
    ({"EQ_ex:checked": "true"}, ["2"]),
    ({"EXISTS_ex:temperature": ""}, ["1", "2"]),
    ({"EQ_ERROR_DECLARATION_ex:ticket": "T-17"}, ["2"]),
    # The fully qualified name finds the field whatever prefix the document used.
    ({f"EQ_{NS}#temperature": "20|8"}, ["2", "4"]),
    ({f"GT_{NS}#temperature": "5"}, ["2", "4"]),
    ({f"EXISTS_{NS}#grade": ""}, ["4"]),
    ({f"EQ_ILMD_{NS}#grade": "A"}, ["1"]),
    ({f"EQ_INNER_ILMD_{NS}#origin": "Đồng Tháp"}, ["1"]),
    ({"EQ_ILMD_ex:grade": "A", "EQ_ex:temperature": "4.5"}, ["1"]),
]


# One capture serves many queries: each case is a query and the events it must return.
def _mismatches(
    client: TestClient, key: str, cases: list[tuple[dict[str, str], list[str]]]
) -> dict[str, list[str]]:
    """The queries that returned other events than expected, with what they returned."""
    return {
        json.dumps(params): got
        for params, expected in cases
        if (got := _found(client, key, **params)) != expected
    }


def test_standard_parameters_select_exactly_the_matching_events(
    client: TestClient, key: str
) -> None:
    assert _mismatches(client, key, STANDARD_CASES) == {}


def test_extension_and_ilmd_fields_are_filtered_in_the_body(client: TestClient, key: str) -> None:
    assert _mismatches(client, key, FIELD_CASES) == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"EQ_quantity": "many"}, "EQ_quantity"),
        ({"GT_quantity": "NaN"}, "GT_quantity"),
        ({"GE_errorDeclarationTime": "2026-06-12"}, "GE_errorDeclarationTime"),
        ({"EXISTS_errorDeclaration": "maybe"}, "EXISTS_errorDeclaration"),
        ({"EQ_errorReason": "|"}, "EQ_errorReason"),
        ({"GT_ex:temperature": "warm"}, "GT_ex:temperature"),
        ({"EQ_temperature": "8"}, "EQ_temperature"),
        ({"EQ_INNER_whatever": "8"}, "EQ_INNER_whatever"),
        ({"MATCH_whatever": "x"}, "MATCH_whatever"),
    ],
)
def test_bad_values_name_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/epcis/events", params=params)
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "epcisException:QueryParameterException"
    assert problem["errors"][0]["pointer"] == field
