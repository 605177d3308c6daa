"""Validation of EPCIS 2.0 documents: GS1's examples pass, every mistake is pinned to its field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epcis.conformance import conformance_dir, json_documents
from txng.epcis.validate import MAX_ERRORS, validate_document, validate_event
from txng.errors import FieldError
from txng.kit.gs1 import with_check_digit

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACES = {"ex": "https://txng.example.vn/epcis/"}
EVENTS = "/epcisBody/eventList"
DROP = object()  # marks a field to remove

GTIN = with_check_digit("0893000101234")  # 14 digits, right check digit
WRONG_GTIN = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)
GTIN_DL = f"https://id.gs1.org/01/{GTIN}"


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DROP:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def object_event(**changes: Any) -> dict[str, Any]:
    """A coffee lot shipped from Buôn Ma Thuột."""
    event = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-06-10T07:30:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": ["urn:epc:id:sgtin:8930001.012345.1001", f"https://id.gs1.org/01/{GTIN}/21/7"],
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:8930001.012345.L42", "quantity": 120.5, "uom": "KGM"}
        ],
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:8930001.00001.0"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:uuid:6f1c0f7e-2d2b-4a57-9d1e-1"}
        ],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:8930001.00000"}],
        "ex:harvestSeason": "2026",
    }
    return _with(event, **changes)


def aggregation_event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "AggregationEvent",
        "action": "ADD",
        "eventTime": "2026-06-10T08:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "parentID": "urn:epc:id:sscc:8930001.0000000001",
        "childEPCs": ["urn:epc:id:sgtin:8930001.012345.1001"],
        "bizStep": "packing",
    }
    return _with(event, **changes)


def transformation_event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "TransformationEvent",
        "eventTime": "2026-06-11T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:8930001.012345.L42", "quantity": 10}
        ],
        "outputEPCList": ["urn:epc:id:sgtin:8930001.054321.1"],
        "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
    }
    return _with(event, **changes)


def transaction_event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "TransactionEvent",
        "action": "ADD",
        "eventTime": "2026-06-11T08:00:00-03:30",
        "eventTimeZoneOffset": "-03:30",
        "bizTransactionList": [{"bizTransaction": "urn:epc:id:gdti:8930001.00001.77"}],
        "epcList": ["urn:epc:id:sgtin:8930001.012345.1001"],
    }
    return _with(event, **changes)


def association_event(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "AssociationEvent",
        "action": "ADD",
        "eventTime": "2026-06-11T08:00:00.5+14:00",
        "eventTimeZoneOffset": "+14:00",
        "parentID": "urn:epc:id:grai:8930001.00001.1",
        "childEPCs": ["urn:epc:id:giai:8930001.sensor1"],
    }
    return _with(event, **changes)


def rich_event() -> dict[str, Any]:
    """An ObjectEvent with nearly every optional part: cold-chain data for a lot of dragon fruit."""
    return object_event(
        action="ADD",
        eventID="ni:///sha-256;2f1c0b8e5c3a?ver=CBV2.0",
        certificationInfo=["https://cert.example.vn/VietGAP/123", "urn:uuid:9a1f"],
        bizLocation={"id": f"https://id.gs1.org/414/{with_check_digit('893000100001')}"},
        persistentDisposition={"set": ["completeness_verified"], "unset": ["in_progress"]},
        destinationList=[{"type": "location", "destination": "urn:epc:id:sgln:8930001.00002.0"}],
        errorDeclaration={
            "declarationTime": "2026-06-12T09:00:00+07:00",
            "reason": "urn:epcglobal:cbv:er:incorrect_data",
            "correctiveEventIDs": ["urn:uuid:0b7f1f4e-8d2c-4c1e-9d55-3f1f7b0d2a02"],
            "ex:by": "QA",
        },
        ilmd={"cbvmda:lotNumber": "L42", "ex:farm": {"ex:name": "HTX Bình Thuận"}},
        sensorElementList=[
            {
                "sensorMetadata": {
                    "time": "2026-06-10T07:00:00+07:00",
                    "deviceID": "urn:epc:id:giai:8930001.logger7",
                    "rawData": "https://data.example.vn/logger7/raw",
                    "ex:firmware": "1.2",
                },
                "sensorReport": [
                    {
                        "type": "Temperature",
                        "value": 4.5,
                        "uom": "CEL",
                        "exception": "ALARM_CONDITION",
                    },
                    {"type": "gs1:RelativeHumidity", "minValue": 80, "maxValue": 92.5, "uom": "P1"},
                    {"type": "ex:Ripeness", "stringValue": "chín", "booleanValue": True},
                    {"type": "Length", "component": "example:x", "hexBinaryValue": "0aFF"},
                ],
            }
        ],
    )


def document(*events: Any, **changes: Any) -> dict[str, Any]:
    doc = {
        "@context": [EPCIS_CONTEXT, NAMESPACES],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }
    return _with(doc, **changes)


def found(doc: Any) -> list[tuple[str, str]]:
    errors, _ = validate_document(doc, now=NOW)
    return [(e.field, e.code) for e in errors]


# GS1's own examples ------------------------------------------------------------------------

DOCUMENTS = json_documents("EPCISDocument")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_the_46_example_documents_are_there() -> None:
    base = conformance_dir()
    assert len(DOCUMENTS) == 46, base
    assert len(json_documents("EPCISQueryDocument")) == 1


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_gs1_example_document_is_valid(path: Path) -> None:
    assert validate_document(_load(path)) == ([], [])


def test_the_gs1_query_document_example_is_valid_too() -> None:
    conformance_dir()
    paths = json_documents("EPCISQueryDocument")
    assert paths
    for path in paths:
        assert validate_document(_load(path)) == ([], [])


def test_our_own_sample_events_are_valid() -> None:
    doc = document(
        object_event(),
        rich_event(),
        aggregation_event(),
        transformation_event(),
        transaction_event(),
        association_event(),
        aggregation_event(action="OBSERVE", parentID=DROP),
        aggregation_event(action="DELETE", childEPCs=DROP),
        object_event(action="ADD", ilmd={"cbvmda:lotNumber": "L42", "ex:grade": "A"}),
        object_event(epcList=DROP),
        transformation_event(outputEPCList=DROP, transformationID="urn:uuid:1-2-3"),
    )
    assert found(doc) == []


# one mistake, one error at the right place ---------------------------------------------------

E0 = f"{EVENTS}/0"
BAD: list[tuple[str, Any, list[tuple[str, str]]]] = [
    (
        "unknown event type",
        document(object_event(type="ShippingEvent")),
        [(f"{E0}/type", "unknown_event_type")],
    ),
    ("bad action", document(object_event(action="MOVE")), [(f"{E0}/action", "invalid_action")]),
    ("missing action", document(object_event(action=DROP)), [(f"{E0}/action", "required")]),
    (
        "naive timestamp",
        document(object_event(eventTime="2026-06-10T07:30:00")),
        [(f"{E0}/eventTime", "invalid_timestamp")],
    ),
    (
        "30 February",
        document(object_event(eventTime="2026-02-30T07:30:00+07:00")),
        [(f"{E0}/eventTime", "invalid_timestamp")],
    ),
    (
        "offset +25:00",
        document(object_event(eventTimeZoneOffset="+25:00")),
        [(f"{E0}/eventTimeZoneOffset", "invalid_time_zone_offset")],
    ),
    (
        "offset +14:30",
        document(object_event(eventTimeZoneOffset="+14:30")),
        [(f"{E0}/eventTimeZoneOffset", "invalid_time_zone_offset")],
    ),
    (
        "offset without colon",
        document(object_event(eventTimeZoneOffset="+0700")),
        [(f"{E0}/eventTimeZoneOffset", "invalid_time_zone_offset")],
    ),
    (
        "missing offset",
        document(object_event(eventTimeZoneOffset=DROP)),
        [(f"{E0}/eventTimeZoneOffset", "required")],
    ),
    (
        "missing eventTime",
        document(object_event(eventTime=DROP)),
        [(f"{E0}/eventTime", "required")],
    ),
    (
        "eventTime two days ahead",
        document(object_event(eventTime="2026-11-24T06:00:01Z")),
        [(f"{E0}/eventTime", "future_time")],
    ),
    (
        "bizStep harvesting",
        document(object_event(bizStep="harvesting")),
        [(f"{E0}/bizStep", "non_standard_vocabulary")],
    ),
    (
        "bizStep with an undeclared prefix",
        document(object_event(bizStep="vn:harvesting")),
        [(f"{E0}/bizStep", "undeclared_prefix")],
    ),
    (
        "bizStep invented in the CBV namespace",
        document(object_event(bizStep="urn:epcglobal:cbv:bizstep:harvesting")),
        [(f"{E0}/bizStep", "non_standard_vocabulary")],
    ),
    (
        "disposition with a space",
        document(object_event(disposition="in transit")),
        [(f"{E0}/disposition", "non_standard_vocabulary")],
    ),
    (
        "malformed SGTIN URN",
        document(object_event(epcList=["urn:epc:id:sgtin:8930001.012345"])),
        [(f"{E0}/epcList/0", "invalid_identifier")],
    ),
    (
        "Digital Link with a wrong check digit",
        document(object_event(epcList=[f"https://id.gs1.org/01/{WRONG_GTIN}/21/7"])),
        [(f"{E0}/epcList/0", "invalid_identifier")],
    ),
    (
        "identifier that is no URI",
        document(object_event(epcList=["LOT-42"])),
        [(f"{E0}/epcList/0", "invalid_identifier")],
    ),
    (
        "same EPC twice",
        document(object_event(epcList=["urn:epc:id:sgtin:8930001.012345.1"] * 2)),
        [(f"{E0}/epcList/1", "duplicate")],
    ),
    (
        "quantity as a string",
        document(object_event(quantityList=[{"epcClass": GTIN_DL, "quantity": "5"}])),
        [(f"{E0}/quantityList/0/quantity", "invalid_type")],
    ),
    (
        "negative quantity",
        document(object_event(quantityList=[{"epcClass": GTIN_DL, "quantity": -1}])),
        [(f"{E0}/quantityList/0/quantity", "invalid_quantity")],
    ),
    (
        "quantity true",
        document(object_event(quantityList=[{"epcClass": GTIN_DL, "quantity": True}])),
        [(f"{E0}/quantityList/0/quantity", "invalid_type")],
    ),
    (
        "quantity without epcClass",
        document(object_event(quantityList=[{"quantity": 1}])),
        [(f"{E0}/quantityList/0/epcClass", "required")],
    ),
    (
        "lower-case unit",
        document(object_event(quantityList=[{"epcClass": GTIN_DL, "quantity": 1, "uom": "kg"}])),
        [(f"{E0}/quantityList/0/uom", "invalid_uom")],
    ),
    (
        "parentID missing on AggregationEvent ADD",
        document(aggregation_event(parentID=DROP)),
        [(f"{E0}/parentID", "required")],
    ),
    (
        "AggregationEvent without children",
        document(aggregation_event(childEPCs=DROP)),
        [(E0, "missing_one_of")],
    ),
    (
        "AssociationEvent without parentID",
        document(association_event(parentID=DROP)),
        [(f"{E0}/parentID", "required")],
    ),
    (
        "TransformationEvent with action",
        document(transformation_event(action="ADD")),
        [(f"{E0}/action", "not_allowed")],
    ),
    (
        "TransformationEvent without inputs and outputs",
        document(transformation_event(inputQuantityList=DROP, outputEPCList=DROP)),
        [(E0, "missing_one_of")],
    ),
    (
        "TransformationEvent with only outputs and no transformationID",
        document(transformation_event(inputQuantityList=DROP)),
        [(E0, "missing_one_of")],
    ),
    (
        "TransactionEvent without bizTransactionList",
        document(transaction_event(bizTransactionList=DROP)),
        [(f"{E0}/bizTransactionList", "required")],
    ),
    (
        "TransactionEvent with an empty bizTransactionList",
        document(transaction_event(bizTransactionList=[])),
        [(f"{E0}/bizTransactionList", "empty")],
    ),
    (
        "ObjectEvent about nothing",
        document(object_event(epcList=DROP, quantityList=DROP)),
        [(E0, "missing_one_of")],
    ),
    (
        "ObjectEvent with an empty epcList only",
        document(object_event(epcList=[], quantityList=DROP)),
        [(f"{E0}/epcList", "empty")],
    ),
    (
        "parentID on an ObjectEvent",
        document(object_event(parentID="urn:epc:id:sscc:8930001.0000000001")),
        [(f"{E0}/parentID", "not_allowed")],
    ),
    (
        "ilmd on an OBSERVE",
        document(object_event(ilmd={"ex:grade": "A"})),
        [(f"{E0}/ilmd", "not_allowed")],
    ),
    (
        "unknown plain field",
        document(object_event(lotNumber="L42")),
        [(f"{E0}/lotNumber", "unknown_field")],
    ),
    (
        "extension with an undeclared prefix",
        document(object_event(**{"vn:grade": "A"})),
        [(f"{E0}/vn:grade", "undeclared_prefix")],
    ),
    (
        "unknown field with a slash",
        document(object_event(**{"a/b~c": 1})),
        [(f"{E0}/a~1b~0c", "unknown_field")],
    ),
    (
        "readPoint as a string",
        document(object_event(readPoint="urn:epc:id:sgln:8930001.00001.0")),
        [(f"{E0}/readPoint", "invalid_type")],
    ),
    (
        "readPoint without id",
        document(object_event(readPoint={})),
        [(f"{E0}/readPoint/id", "required")],
    ),
    (
        "source without type",
        document(object_event(sourceList=[{"source": "urn:epc:id:pgln:8930001.00000"}])),
        [(f"{E0}/sourceList/0/type", "required")],
    ),
    (
        "bizTransaction with an extra field",
        document(
            object_event(bizTransactionList=[{"bizTransaction": "urn:uuid:1", "ex:note": "x"}])
        ),
        [(f"{E0}/bizTransactionList/0/ex:note", "unknown_field")],
    ),
    (
        "eventID not a URI",
        document(object_event(eventID="event 1")),
        [(f"{E0}/eventID", "invalid_uri")],
    ),
    (
        "certificationInfo a number",
        document(object_event(certificationInfo=42)),
        [(f"{E0}/certificationInfo", "invalid_type")],
    ),
    (
        "errorDeclaration without declarationTime",
        document(object_event(errorDeclaration={"reason": "incorrect_data"})),
        [(f"{E0}/errorDeclaration/declarationTime", "required")],
    ),
    (
        "persistentDisposition with an empty set",
        document(object_event(persistentDisposition={"set": []})),
        [(f"{E0}/persistentDisposition/set", "empty")],
    ),
    (
        "sensorReport empty",
        document(object_event(sensorElementList=[{"sensorReport": []}])),
        [(f"{E0}/sensorElementList/0/sensorReport", "empty")],
    ),
    (
        "sensor value as a string, type invented",
        document(
            object_event(
                sensorElementList=[{"sensorReport": [{"type": "Temprature", "value": "26.1"}]}]
            )
        ),
        [
            (f"{E0}/sensorElementList/0/sensorReport/0/type", "non_standard_vocabulary"),
            (f"{E0}/sensorElementList/0/sensorReport/0/value", "invalid_type"),
        ],
    ),
    (
        "sensor time without a zone",
        document(
            object_event(
                sensorElementList=[
                    {"sensorReport": [{"type": "gs1:Temperature", "time": "2026-06-10T07:00"}]}
                ]
            )
        ),
        [(f"{E0}/sensorElementList/0/sensorReport/0/time", "invalid_timestamp")],
    ),
    ("event not an object", document(["ObjectEvent"]), [(E0, "invalid_type")]),
    (
        "eventList not a list",
        document(epcisBody={"eventList": {"0": object_event()}}),
        [(EVENTS, "invalid_type")],
    ),
    ("no eventList", document(epcisBody={}), [(EVENTS, "required")]),
    ("document not an object", [object_event()], [("", "invalid_type")]),
    (
        "document type",
        document(object_event(), type="EPCISDoc"),
        [("/type", "invalid_document_type")],
    ),
    (
        "schemaVersion 3.0",
        document(object_event(), schemaVersion="3.0"),
        [("/schemaVersion", "unsupported_version")],
    ),
    (
        "creationDate missing",
        document(object_event(), creationDate=DROP),
        [("/creationDate", "required")],
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_mistake_is_reported_at_its_field_with_its_code(
    doc: Any, expected: list[tuple[str, str]]
) -> None:
    errors, bad = validate_document(doc, now=NOW)
    assert [(e.field, e.code) for e in errors] == expected
    for error in errors:
        assert error.message % dict(error.params)  # every placeholder has its value
    if any(pointer.startswith(E0) for pointer, _ in expected):
        assert bad == [0]


def test_the_base_document_of_the_table_is_valid() -> None:
    assert found(document(object_event())) == []


def test_a_declared_prefix_makes_a_bizstep_valid() -> None:
    assert found(document(object_event(bizStep="ex:harvesting"))) == []
    undeclared = document(object_event(bizStep="ex:harvesting"), **{"@context": [EPCIS_CONTEXT]})
    assert found(undeclared) == [
        (f"{E0}/bizStep", "undeclared_prefix"),
        (f"{E0}/ex:harvestSeason", "undeclared_prefix"),
    ]


def test_an_event_may_declare_its_own_prefixes() -> None:
    own = {"@context": {"vn": "https://vn.example/"}, "bizStep": "vn:drying"}
    event = object_event(**own, **{"ex:harvestSeason": DROP})
    assert found(document(event)) == []
    assert validate_event(event, "", {}, now=NOW) == []
    assert validate_event(_with(event, **{"@context": DROP}), "", {}, now=NOW) == [
        FieldError(
            "/bizStep",
            "The prefix %(prefix)s is not declared in @context",
            "undeclared_prefix",
            {"prefix": "vn"},
        )
    ]


@pytest.mark.parametrize(
    "value",
    [
        "shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
        "https://txng.example.vn/bizstep/drying",
        "urn:txng:bizstep:drying",
    ],
)
def test_standard_and_uri_bizsteps_are_valid(value: str) -> None:
    assert found(document(object_event(bizStep=value))) == []


def test_record_time_is_ignored_whatever_it_is() -> None:
    assert found(document(object_event(recordTime="yesterday"))) == []


def test_timestamps_at_the_edges() -> None:
    good = ["2026-06-10T07:30:00Z", "2026-06-10T07:30:00.123456789-14:00", "2024-02-29T00:00:00Z"]
    for value in good:
        assert found(document(object_event(eventTime=value))) == [], value
    bad = [
        "2025-02-29T00:00:00Z",
        "2026-06-10 07:30:00Z",
        "2026-06-10T24:00:00Z",
        "2026-06-10T07:30:00+14:01",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "２０２６-06-10T07:30:00Z",  # full-width digits
        "",
    ]
    for value in bad:
        assert found(document(object_event(eventTime=value))) == [
            (f"{E0}/eventTime", "invalid_timestamp")
        ], value


def test_only_the_bad_event_of_three_is_reported() -> None:
    doc = document(
        object_event(), object_event(action="MOVE", bizStep="harvesting"), object_event()
    )
    errors, bad = validate_document(doc, now=NOW)
    assert bad == [1]
    assert [(e.field, e.code) for e in errors] == [
        (f"{EVENTS}/1/action", "invalid_action"),
        (f"{EVENTS}/1/bizStep", "non_standard_vocabulary"),
    ]


def test_an_envelope_error_does_not_make_the_events_bad() -> None:
    errors, bad = validate_document(document(object_event(), creationDate="today"), now=NOW)
    assert [(e.field, e.code) for e in errors] == [("/creationDate", "invalid_timestamp")]
    assert bad == []


def test_errors_stop_at_the_limit_and_the_rest_counts_as_bad() -> None:
    many = object_event(epcList=[f"lot-{i}" for i in range(MAX_ERRORS + 500)])
    doc = document(object_event(), many, object_event(), object_event())
    errors, bad = validate_document(doc, now=NOW)
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1].code == "too_many"
    assert errors[-1].field == EVENTS
    assert errors[-1].message % dict(errors[-1].params)
    assert bad == [1, 2, 3]
    single = validate_event(many, "/x", NAMESPACES, now=NOW)
    assert len(single) == MAX_ERRORS + 1
    assert single[-1].field == "/x"


def test_validate_event_uses_the_given_pointer() -> None:
    errors = validate_event(object_event(action="MOVE"), "", NAMESPACES, now=NOW)
    assert [(e.field, e.code) for e in errors] == [("/action", "invalid_action")]


# never an exception --------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FIELD_NAMES = st.sampled_from(
    sorted(
        {
            *object_event(),
            *aggregation_event(),
            *transformation_event(),
            *transaction_event(),
            *("sensorElementList", "persistentDisposition", "errorDeclaration", "ilmd"),
        }
    )
)
EVENT_TYPES = st.sampled_from(
    [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ]
)


def _check_errors(errors: Any, pointer: str) -> None:
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error, FieldError)
        assert error.field == pointer or error.field.startswith(pointer + "/")
        assert error.message % dict(error.params)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a sequence of keys and indexes."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


RICH_PATHS = _paths(rich_event())[1:]


@settings(database=None, max_examples=300, deadline=None)
@given(JSON, st.sampled_from(["", "/epcisBody/eventList/7"]))
def test_validate_event_never_raises_on_any_json(value: Any, pointer: str) -> None:
    _check_errors(validate_event(value, pointer, NAMESPACES), pointer)


@settings(database=None, max_examples=300, deadline=None)
@given(EVENT_TYPES, st.dictionaries(FIELD_NAMES, JSON, max_size=6))
def test_validate_event_never_raises_on_odd_values_in_real_fields(
    event_type: str, fields: dict[str, Any]
) -> None:
    event = {"type": event_type, **fields}
    _check_errors(validate_event(event, "/e", NAMESPACES), "/e")


@settings(database=None, max_examples=100, deadline=None)
@given(JSON, st.lists(JSON, max_size=4))
def test_validate_document_never_raises(value: Any, events: list[Any]) -> None:
    errors, bad = validate_document(value)
    _check_errors(errors, "")
    errors, bad = validate_document(document(*events))
    _check_errors(errors, "")
    assert set(bad) <= set(range(len(events)))
    assert {int(e.field.split("/")[3]) for e in errors} == set(bad)


@settings(database=None, max_examples=300, deadline=None)
@given(st.sampled_from(RICH_PATHS), JSON)
def test_validate_event_never_raises_when_any_part_of_a_rich_event_is_replaced(
    path: tuple[Any, ...], value: Any
) -> None:
    event = rich_event()
    holder: Any = event
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    errors = validate_event(event, "/epcisBody/eventList/3", NAMESPACES)
    _check_errors(errors, "/epcisBody/eventList/3")


def test_query_document_events_are_pointed_at_in_the_query_results() -> None:
    doc = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00Z",
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {
                    "eventList": [object_event(action="MOVE", **{"ex:harvestSeason": DROP})]
                },
            }
        },
    }
    errors, bad = validate_document(doc, now=NOW)
    assert [(e.field, e.code) for e in errors] == [
        ("/epcisBody/queryResults/resultsBody/eventList/0/action", "invalid_action")
    ]
    assert bad == [0]


@pytest.mark.parametrize(
    ("report", "code"),
    [
        ({"type": "Temprature"}, "non_standard_vocabulary"),
        ({"type": "Temperature", "uom": "°C"}, "invalid_uom"),
        ({"type": "Temperature", "hexBinaryValue": "xyz"}, "invalid_value"),
        ({"type": "Temperature", "booleanValue": "true"}, "invalid_type"),
        ({"type": "Temperature", "component": "cbv:Comp-w"}, "non_standard_vocabulary"),
    ],
)
def test_sensor_report_mistakes(report: dict[str, Any], code: str) -> None:
    event = object_event(sensorElementList=[{"sensorReport": [report]}])
    errors = validate_event(event, "", NAMESPACES, now=NOW)
    assert [e.code for e in errors] == [code]
    assert errors[0].field.startswith("/sensorElementList/0/sensorReport/0/")


def test_an_absurdly_nested_context_declares_nothing_and_does_not_crash() -> None:
    nested: Any = {"vn": "https://vn.example/"}
    for _ in range(5000):
        nested = [nested]
    event = object_event(**{"@context": nested, "bizStep": "vn:drying", "ex:harvestSeason": DROP})
    errors = validate_event(event, "", {}, now=NOW)
    assert [(e.field, e.code) for e in errors] == [("/bizStep", "undeclared_prefix")]


def test_sensor_reports_follow_the_standard_not_only_the_json_schema() -> None:
    """The XML schema and the standard make ``type`` optional, and the GS1 Web Vocabulary has
    measurement types newer than our list: GS1's own XML examples use both."""
    reports = [{"value": 4.5}, {"type": "gs1:EffectiveDoseRate", "value": 0.2}]
    event = object_event(sensorElementList=[{"sensorReport": reports}])
    assert validate_event(event, "", {**NAMESPACES, "gs1": "https://gs1.org/voc/"}, now=NOW) == []


def _checker_agrees(doc: Any) -> bool | None:
    """What capture's optimistic path decides for ``doc``, checked against validate_document:
    it may only call a document valid that validate_document finds no error in, and must."""
    from txng.epcis.capture import events_of
    from txng.epcis.validate import event_checker

    errors, _ = validate_document(doc, now=NOW)
    checker = event_checker(doc, now=NOW)
    if checker is None:  # the envelope is wrong: validate_document reports it
        assert errors
        return None
    events, _ = events_of(doc)
    verdict = checker(events)
    assert verdict == (not errors), (verdict, errors[:3])
    return verdict


@pytest.mark.parametrize(("doc", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_the_optimistic_checker_refuses_every_mistake(doc: Any, expected: Any) -> None:
    assert _checker_agrees(doc) is not True


def test_the_optimistic_checker_accepts_the_gs1_examples() -> None:
    paths = json_documents() + json_documents("EPCISQueryDocument")
    accepted = [_checker_agrees(json.loads(p.read_text(encoding="utf-8"))) for p in paths]
    assert len(accepted) > 40
    assert all(accepted)
