"""The EPCIS 2.0 capture and query interface, checked with GS1's own examples and bad documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import factories as f
from epcis.conformance import epcis_schema, json_documents
from txng.epcis import hashing
from txng.models import CaptureJob, EpcisEvent
from txng.models.base import utcnow

DOCUMENTS = json_documents()
LD = {"Content-Type": "application/ld+json"}


def _doc(*events: dict[str, Any], context: list[Any] | None = None) -> dict[str, Any]:
    return {
        "@context": context or ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def _event(serial: str = "1001", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-06-10T07:30:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:epc:id:sgtin:8930001.012345.{serial}"],
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:8930001.00001.0"},
    }
    event.update(extra)
    return event


def _capture(client: TestClient, key: str, document: Any, behaviour: str | None = None) -> Any:
    headers = {**f.bearer(key), **LD}
    if behaviour:
        headers["GS1-Capture-Error-Behaviour"] = behaviour
    return client.post("/epcis/capture", content=json.dumps(document), headers=headers)


def _all_events(client: TestClient, key: str | None, **params: str) -> list[dict[str, Any]]:
    headers = f.bearer(key) if key else {}
    response = client.get("/epcis/events", params={"perPage": "1000", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(epcis_schema())


# conformance -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_gs1_example_is_captured_and_queried_back_unchanged(
    client: TestClient, db_session: Session, path: Path
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    document = json.loads(path.read_text(encoding="utf-8"))
    sent = document["epcisBody"]["eventList"]

    response = _capture(client, ent.key, document)
    assert response.status_code == 202, response.text
    job = client.get(response.headers["Location"], headers=f.bearer(ent.key)).json()
    assert job["success"] is True
    assert job["running"] is False
    assert job["storedCount"] + job["duplicateCount"] == len(sent)

    result = client.get("/epcis/events", params={"perPage": "1000"}, headers=f.bearer(ent.key))
    assert result.status_code == 200
    body = result.json()
    errors = sorted(_validator().iter_errors(body), key=str)
    assert not errors, errors[0].message
    returned = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    by_id = {event["eventID"]: event for event in returned}
    for index, original in enumerate(sent):
        event_id = original.get("eventID") or hashing.event_hash(
            original, hashing.document_namespaces(document["@context"])
        )
        assert event_id in by_id, f"event {index} not returned"
        got = dict(by_id[event_id])
        assert got.pop("recordTime")
        expected = {k: v for k, v in original.items() if k != "recordTime"}
        expected["eventID"] = event_id
        assert got == expected


def test_query_output_has_the_shape_of_gs1_query_document(
    client: TestClient, db_session: Session
) -> None:
    [example] = json_documents("EPCISQueryDocument")
    ent = f.enterprise(db_session)
    db_session.commit()
    # The standard allows an EPCISQueryDocument as capture input too.
    document = json.loads(example.read_text(encoding="utf-8"))
    assert _capture(client, ent.key, document).status_code == 202
    body = client.get("/epcis/events", headers=f.bearer(ent.key)).json()
    assert not list(_validator().iter_errors(body))
    assert body["type"] == document["type"]
    assert set(body["epcisBody"]["queryResults"]) >= {"queryName", "resultsBody"}
    sent = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    got = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in got] == [e["eventID"] for e in sent]
    assert body["@context"][1] == {"example": "http://ns.example.com/epcis/"}


# validation and error behaviour ------------------------------------------------------------


def test_one_bad_event_under_rollback_stores_nothing_and_points_at_the_field(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    bad = _event("2", action="MOVE")
    response = _capture(client, ent.key, _doc(_event("1"), bad, _event("3")))
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "epcisException:ValidationException"
    assert response.headers["content-type"].startswith("application/problem+json")
    pointers = [e["pointer"] for e in problem["errors"]]
    assert pointers == ["/epcisBody/eventList/1/action"]
    assert problem["errors"][0]["detail"]  # a sentence, in Vietnamese by default
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 0
    job = client.get(response.headers["Location"], headers=f.bearer(ent.key)).json()
    assert job["success"] is False
    assert job["storedCount"] == 0
    assert job["errors"][0]["pointer"] == "/epcisBody/eventList/1/action"


def test_proceed_stores_the_good_events_and_reports_the_bad_ones(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    document = _doc(_event("1"), _event("2", bizStep="harvesting"), _event("3"))
    response = _capture(client, ent.key, document, behaviour="proceed")
    assert response.status_code == 202
    job = response.json()
    assert job["success"] is False
    assert job["storedCount"] == 2
    assert [e["pointer"] for e in job["errors"]] == ["/epcisBody/eventList/1/bizStep"]
    serials = sorted(e["epcList"][0].rsplit(".", 1)[1] for e in _all_events(client, ent.key))
    assert serials == ["1", "3"]


def test_error_messages_follow_the_callers_language(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    document = json.dumps(_doc(_event("1", action="MOVE")))
    vi = client.post("/epcis/capture", content=document, headers={**f.bearer(ent.key), **LD})
    en = client.post(
        "/epcis/capture",
        content=document,
        headers={**f.bearer(ent.key), **LD, "Accept-Language": "en"},
    )
    assert vi.status_code == en.status_code == 400
    assert vi.json()["errors"][0]["detail"] != en.json()["errors"][0]["detail"]


def test_malformed_json_and_unknown_media_type_are_refused(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    broken = client.post(
        "/epcis/capture", content=b'{"type": "EPCISDocument",', headers={**f.bearer(ent.key), **LD}
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "invalid_json"
    csv = client.post(
        "/epcis/capture",
        content=b"a,b",
        headers={**f.bearer(ent.key), "Content-Type": "text/csv"},
    )
    assert csv.status_code == 415


def test_capture_needs_an_organisation_key(client: TestClient, db_session: Session) -> None:
    response = client.post("/epcis/capture", content=json.dumps(_doc(_event())), headers=LD)
    assert response.status_code == 401


def test_capture_limits_are_advertised_and_enforced(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    options = client.options("/epcis/capture", headers=f.bearer(ent.key))
    assert options.status_code == 204
    limit = int(options.headers["GS1-EPCIS-Capture-Limit"])
    assert limit >= 500
    assert "rollback" in options.headers["GS1-Capture-Error-Behaviour"]
    too_many = _doc(*(_event(str(i)) for i in range(limit + 1)))
    response = _capture(client, ent.key, too_many)
    assert response.status_code == 413
    assert response.json()["type"] == "epcisException:CaptureLimitExceededException"


def test_five_hundred_events_in_one_call(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    response = _capture(client, ent.key, _doc(*(_event(str(i)) for i in range(500))))
    assert response.status_code == 202
    assert response.json()["storedCount"] == 500
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 500


# event IDs and duplicates ------------------------------------------------------------------


def test_event_without_id_gets_its_cbv_hash_and_a_second_capture_stores_it_once(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    document = _doc(_event("7"))
    first = _capture(client, ent.key, document)
    second = _capture(client, ent.key, copy.deepcopy(document))
    assert first.json()["storedCount"] == 1
    assert second.json()["storedCount"] == 0
    assert second.json()["duplicateCount"] == 1
    [stored] = _all_events(client, ent.key)
    assert stored["eventID"] == hashing.event_hash(_event("7"), {})
    assert stored["eventID"].startswith("ni:///sha-256;")
    assert stored["eventID"].endswith("?ver=CBV2.0")
    # The same event sent with the Digital Link form of its EPC is the same event.
    digital_link = _event("7", epcList=["https://id.gs1.org/01/08930001123458/21/7"])
    third = _capture(client, ent.key, _doc(digital_link))
    assert third.json()["duplicateCount"] == 1


def test_an_event_id_reused_for_other_content_is_an_error(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    event_id = "urn:uuid:2b4a5a5e-1b1c-4f52-8a55-8a0c5b7c1d11"
    assert _capture(client, ent.key, _doc(_event("1", eventID=event_id))).status_code == 202
    response = _capture(client, ent.key, _doc(_event("2", eventID=event_id)))
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/epcisBody/eventList/0/eventID"
    assert response.json()["errors"][0]["code"] == "event_id_conflict"


# query -------------------------------------------------------------------------------------


def test_an_epc_is_found_by_urn_and_by_digital_link(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    _capture(client, ent.key, _doc(_event("42"), _event("43")))
    by_urn = _all_events(client, ent.key, MATCH_epc="urn:epc:id:sgtin:8930001.012345.42")
    by_dl = _all_events(client, ent.key, MATCH_epc="https://example.vn/01/08930001123458/21/42")
    assert len(by_urn) == 1
    assert by_urn == by_dl
    pattern = _all_events(client, ent.key, MATCH_epc="urn:epc:idpat:sgtin:8930001.012345.*")
    assert len(pattern) == 2
    path = quote("https://id.gs1.org/01/08930001123458/21/43", safe="")
    per_epc = client.get(f"/epcis/epcs/{path}/events", headers=f.bearer(ent.key))
    assert [
        e["epcList"]
        for e in per_epc.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ] == [["urn:epc:id:sgtin:8930001.012345.43"]]


def test_standard_query_parameters(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    events = [
        _event("1", eventTime="2026-06-01T08:00:00+07:00", bizStep="commissioning", action="ADD"),
        _event("2", eventTime="2026-06-02T08:00:00+07:00"),
        _event(
            "3",
            eventTime="2026-06-03T08:00:00+07:00",
            bizStep="receiving",
            disposition="in_progress",
            bizLocation={"id": "urn:epc:id:sgln:8930001.00002.0"},
            bizTransactionList=[
                {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:8930001000018:PO-7"}
            ],
            sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:8930001.00001"}],
        ),
    ]
    _capture(client, ent.key, _doc(*events))

    def serials(**params: str) -> list[str]:
        return sorted(e["epcList"][0][-1] for e in _all_events(client, ent.key, **params))

    assert serials(EQ_bizStep="shipping") == ["2"]
    assert serials(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-receiving|commissioning") == [
        "1",
        "3",
    ]
    assert serials(EQ_action="ADD") == ["1"]
    assert serials(GE_eventTime="2026-06-02T00:00:00+07:00") == ["2", "3"]
    assert serials(LT_eventTime="2026-06-02T01:00:00Z") == ["1"]  # 08:00+07:00 is not before
    assert serials(EQ_disposition="in_progress") == ["3"]
    assert serials(EQ_bizLocation="urn:epc:id:sgln:8930001.00002.0") == ["3"]
    assert serials(EQ_readPoint="https://id.gs1.org/414/8930001000018") == ["1", "2", "3"]
    assert serials(EQ_bizTransaction_po="urn:epcglobal:cbv:bt:8930001000018:PO-7") == ["3"]
    assert serials(EQ_source_owning_party="urn:epc:id:pgln:8930001.00001") == ["3"]
    assert serials(eventType="AggregationEvent") == []
    ordered = _all_events(client, ent.key, orderBy="eventTime", orderDirection="ASC")
    assert [e["epcList"][0][-1] for e in ordered] == ["1", "2", "3"]


def test_pages_follow_next_page_tokens_to_the_end(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    times = [f"2026-06-{day:02d}T08:00:00+07:00" for day in (5, 1, 3, 3, 2, 4, 3)]
    _capture(client, ent.key, _doc(*(_event(str(i), eventTime=t) for i, t in enumerate(times))))
    seen: list[str] = []
    url = "/epcis/events?perPage=2&orderBy=eventTime&orderDirection=DESC"
    pages = 0
    while url:
        response = client.get(url, headers=f.bearer(ent.key))
        assert response.status_code == 200
        page = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        seen.extend(e["eventTime"] for e in page)
        link = response.headers.get("Link")
        url = link.split(">", 1)[0].lstrip("<") if link else ""
        pages += 1
    assert pages == 4
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"eventType": "SensorEvent"}, "eventType"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"EQ_action": "MOVE"}, "EQ_action"),
        ({"orderBy": "bizStep"}, "orderBy"),
        ({"perPage": "0"}, "perPage"),
        ({"nextPageToken": "not-a-token"}, "nextPageToken"),
        ({"MATCH_epc": "urn:epc:id:sgtin:12.34"}, "MATCH_epc"),
        ({"EQ_whatever": "x"}, "EQ_whatever"),
    ],
)
def test_bad_query_parameters_are_query_parameter_exceptions(
    client: TestClient, db_session: Session, params: dict[str, str], field: str
) -> None:
    response = client.get("/epcis/events", params=params)
    assert response.status_code == 400
    assert response.json()["type"] == "epcisException:QueryParameterException"
    assert response.json()["errors"][0]["pointer"] == field


def test_unpublished_events_are_private_to_their_owner_and_authorities(
    client: TestClient, db_session: Session
) -> None:
    owner = f.enterprise(db_session)
    other = f.enterprise(db_session, name="Công ty khác")
    db_session.commit()
    _capture(client, owner.key, _doc(_event("5")))
    [event] = _all_events(client, owner.key)
    event_path = f"/epcis/events/{quote(event['eventID'], safe='')}"
    assert client.get(event_path, headers=f.bearer(owner.key)).status_code == 200
    assert client.get(event_path, headers=f.bearer(other.key)).status_code == 404
    assert client.get(event_path).status_code == 404
    assert _all_events(client, other.key) == []
    assert _all_events(client, None) == []
    job_path = _capture(client, owner.key, _doc(_event("6"))).headers["Location"]
    assert client.get(job_path, headers=f.bearer(other.key)).status_code == 404

    db_session.execute(update(EpcisEvent).values(published_at=utcnow()))
    db_session.commit()
    assert client.get(event_path).status_code == 200
    assert len(_all_events(client, other.key)) == 2


def test_results_in_the_xml_binding_on_request(client: TestClient, db_session: Session) -> None:

    ent = f.enterprise(db_session)
    db_session.commit()
    _capture(client, ent.key, _doc(_event("9")))
    response = client.get(
        "/epcis/events", headers={**f.bearer(ent.key), "Accept": "application/xml"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert b"EPCISQueryDocument" in response.content
    assert b"urn:epc:id:sgtin:8930001.012345.9" in response.content


def test_named_queries(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    _capture(client, ent.key, _doc(_event("1"), _event("2", bizStep="receiving")))
    created = client.post(
        "/epcis/queries",
        json={"name": "nhan-hang", "query": {"EQ_bizStep": ["receiving"]}},
        headers=f.bearer(ent.key),
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "/epcis/queries/nhan-hang"
    again = client.post(
        "/epcis/queries", json={"name": "nhan-hang", "query": {}}, headers=f.bearer(ent.key)
    )
    assert again.status_code == 409
    results = client.get("/epcis/queries/nhan-hang/events", headers=f.bearer(ent.key)).json()
    events = results["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["receiving"]
    assert results["epcisBody"]["queryResults"]["queryName"] == "nhan-hang"
    bad = client.post(
        "/epcis/queries",
        json={"name": "x", "query": {"EQ_action": ["JUMP"]}},
        headers=f.bearer(ent.key),
    )
    assert bad.status_code == 400
    assert client.delete("/epcis/queries/nhan-hang", headers=f.bearer(ent.key)).status_code == 204
    assert client.get("/epcis/queries/nhan-hang", headers=f.bearer(ent.key)).status_code == 404


def test_single_event_capture_is_synchronous(client: TestClient, db_session: Session) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    response = client.post("/epcis/events", json=_event("11"), headers=f.bearer(ent.key))
    assert response.status_code == 201, response.text
    assert response.json()["eventID"].startswith("ni:///sha-256;")
    assert client.get(response.headers["Location"], headers=f.bearer(ent.key)).status_code == 200
    again = client.post("/epcis/events", json=_event("11"), headers=f.bearer(ent.key))
    assert again.status_code == 409
    bad = client.post("/epcis/events", json=_event("12", action="MOVE"), headers=f.bearer(ent.key))
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["pointer"] == "/action"
    # The synchronous interface keeps no job for a refused event.
    assert db_session.scalar(select(func.count()).select_from(CaptureJob)) == 1


def test_an_error_declaration_marks_the_stored_event_and_keeps_the_correction(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    other = f.enterprise(db_session, name="Công ty khác")
    db_session.commit()
    wrong = _event("1", eventID="urn:uuid:0b7f1f4e-8d2c-4c1e-9d55-3f1f7b0d2a01")
    assert _capture(client, ent.key, _doc(wrong)).status_code == 202
    corrective_id = "urn:uuid:0b7f1f4e-8d2c-4c1e-9d55-3f1f7b0d2a02"
    declaration = {
        **wrong,
        "errorDeclaration": {
            "declarationTime": "2026-06-11T09:00:00.000+07:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": [corrective_id],
        },
    }
    corrective = _event("2", eventID=corrective_id)
    # Another organisation cannot declare someone else's event erroneous.
    refused = _capture(client, other.key, _doc(declaration))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "not_owner"

    response = _capture(client, ent.key, _doc(declaration, corrective))
    assert response.status_code == 202, response.text
    declared = _all_events(client, ent.key, EXISTS_errorDeclaration="")
    assert [e["eventID"] for e in declared] == [wrong["eventID"]]
    assert declared[0]["errorDeclaration"]["correctiveEventIDs"] == [corrective_id]
    assert len(_all_events(client, ent.key)) == 2


def test_fields_a_document_lists_in_ignore_fields_are_left_out_of_assigned_event_ids(
    client: TestClient, db_session: Session
) -> None:
    """The GS1 event-hash example whose two events differ only in fields its ignoreFields
    names: captured without eventIDs, both get the expected hash, so they are one event."""
    from epcis.conformance import conformance_dir

    examples = conformance_dir() / "event-hash" / "tests" / "examples"
    document = json.loads(
        (examples / "epcisDocHavingEventWithIgnoreFields.jsonld").read_text(encoding="utf-8")
    )
    expected = set((examples / "epcisDocHavingEventWithIgnoreFields.hashes").read_text().split())
    for event in document["epcisBody"]["eventList"]:
        del event["eventID"]
    ent = f.enterprise(db_session)
    db_session.commit()
    body = _capture(client, ent.key, document).json()
    assert (body["storedCount"], body["duplicateCount"]) == (1, 1)
    assert {e["eventID"] for e in _all_events(client, ent.key)} == expected
