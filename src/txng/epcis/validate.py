"""Validation of EPCIS 2.0 documents and events, with one precise error per problem.

Every error is a :class:`~txng.errors.FieldError` whose ``field`` is the JSON pointer of the
offending value inside the submitted document (``/epcisBody/eventList/3/action``), whose
``message`` is a short English msgid (translated at the edge) and whose ``code`` is a stable
machine code. Nothing here raises on bad input: any JSON value gives a list of errors.

The rules follow the EPCIS 2.0 standard and its JSON schema (``EPCIS-JSON-Schema.json``), with
these decisions:

* ``schemaVersion`` may be ``2.0`` or ``1.2`` (EPCIS 1.2 XML documents are converted into the same
  shape by the XML binding); ``@context`` is optional (the standard EPCIS context is implied).
  An EPCISQueryDocument is accepted too: its events are those of
  ``/epcisBody/queryResults/resultsBody/eventList``, like :func:`txng.epcis.capture.events_of`.
* ``persistentDisposition`` is allowed on every event type, as in the XML schema (the JSON schema
  lists it for ObjectEvent and TransformationEvent only).
* An event must say what it is about: a non-empty ``epcList`` or ``quantityList`` (ObjectEvent,
  TransactionEvent), ``childEPCs`` or ``childQuantityList`` (AggregationEvent, AssociationEvent),
  except for action DELETE; an ObjectEvent may instead carry sensor data with a ``readPoint``. A
  TransformationEvent needs inputs and outputs, or one of them and a ``transformationID``.
* ``parentID`` is required on AggregationEvent ADD/DELETE and on every AssociationEvent.
* ``recordTime`` is ignored (the repository sets it); ``eventTime`` may not be more than a day
  ahead of the server clock.
* Vocabulary values (bizStep, disposition, ...) are a standard CBV value in any of its spellings,
  or a URI: an absolute IRI (``https://...``, ``urn:...``) or ``prefix:value`` with a declared
  prefix. A URI inside a GS1 namespace (CBV, ``https://gs1.org/voc/``) must be a standard value.
  Sensor ``component`` and ``exception`` accept any absolute URI without a declared prefix, as
  GS1's own examples use ``example:x`` without declaring ``example``.
* Keys: a key that is no standard field of its place must be a namespaced extension
  (``prefix:name``, prefix declared) — except in quantity elements, business transactions and
  sources/destinations, which admit no extensions; a standard field of another event type is an
  error (``not_allowed``). The values of ``ilmd`` entries and of extensions are not looked into.
* Identifiers must be absolute URIs; EPC URNs and GS1 Digital Links must be well formed
  (:func:`txng.epcis.identifiers.canonical_id`).

After :data:`MAX_ERRORS` errors validation stops and a final ``too_many`` error is added; the
events that were not checked count as bad.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from txng.epcis import identifiers, vocab
from txng.epcis.hashing import document_namespaces
from txng.errors import N_, FieldError

MAX_ERRORS: Final = 1000
FUTURE_TOLERANCE: Final = timedelta(days=1)
SCHEMA_VERSIONS: Final = ("2.0", "1.2")
DOCUMENT_TYPES: Final = ("EPCISDocument", "EPCISQueryDocument")

# Messages: few, short and reusable (the edge translates them).
_REQUIRED = N_("This field is required")
_WRONG_TYPE = N_("Wrong type: expected %(expected)s")
_ONE_OF = N_("Must be one of: %(allowed)s")
_UNKNOWN_EVENT_TYPE = N_("Unknown event type %(value)s")
_TIMESTAMP = N_("Not a valid timestamp with a time zone")
_OFFSET = N_("Not a valid time zone offset: use ±hh:mm from -14:00 to +14:00")
_FUTURE = N_("This time is more than a day in the future")
_VOCABULARY = N_("%(value)s is not a standard CBV value: use a CBV value or a namespaced URI")
_PREFIX = N_("The prefix %(prefix)s is not declared in @context")
_IDENTIFIER = N_("Not a valid identifier: %(reason)s")
_URI = N_("Must be an absolute URI")
_AT_LEAST = N_("Must be at least %(ge)s")
_UOM = N_("Must be a UN/ECE Recommendation 20 unit code such as KGM")
_EMPTY = N_("Must not be empty")
_DUPLICATE = N_("Listed more than once")
_GIVE_ONE_OF = N_("Give at least one of: %(fields)s")
_UNKNOWN_FIELD = N_(
    "Unknown field %(name)s: use a standard field or a namespaced extension (prefix:name)"
)
_UNKNOWN_FIELD_STRICT = N_("Unknown field")
_WRONG_EVENT = N_("Not allowed on %(event_type)s")
_ONLY_ACTION = N_("Only allowed when action is %(action)s")
_HEX = N_("Must be hexadecimal digits")
_TOO_MANY = N_("Too many errors: only the first %(limit)s are listed")

_OFFSET_PATTERN = r"[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00)"
_OFFSET_RE = re.compile(_OFFSET_PATTERN + r"\Z")
_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(Z|" + _OFFSET_PATTERN + r")\Z"
)
_ZONES: dict[str, timezone] = {"Z": UTC}
# An absolute URI/IRI: a scheme, a colon, then no whitespace, control or excluded characters.
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f\"<>\\^`{|}]+\Z")
_UOM_RE = re.compile(r"[A-Z0-9]{2,3}\Z")
_HEX_RE = re.compile(r"[A-Fa-f0-9]+\Z")

# Prefixes of the standard EPCIS 2.0 JSON-LD context: always declared.
_STANDARD_PREFIXES: Final[dict[str, str]] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# URI schemes whose URIs have no ``//`` authority: ``urn:uuid:...`` is an IRI, not a prefix.
_OPAQUE_SCHEMES: Final = frozenset(
    {"urn", "ni", "tag", "mailto", "did", "geo", "data", "tel", "uuid", "doi", "http", "https"}
)
_CBV_NAMESPACES: Final = (
    "urn:epcglobal:cbv:",
    "https://ref.gs1.org/cbv/",
    "http://ref.gs1.org/cbv/",
    "https://ns.gs1.org/cbv/",
    "http://ns.gs1.org/cbv/",
)
_GS1_VOC_NAMESPACES: Final = (
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
    "http://www.gs1.org/voc/",
)
_RESERVED: Final[dict[str, tuple[str, ...]]] = {
    "bizStep": _CBV_NAMESPACES,
    "disposition": _CBV_NAMESPACES,
    "bizTransactionType": _CBV_NAMESPACES,
    "sourceDestType": _CBV_NAMESPACES,
    "errorReason": _CBV_NAMESPACES,
    "component": _CBV_NAMESPACES,
    "measurementType": _GS1_VOC_NAMESPACES,
    "sensorAlertType": _GS1_VOC_NAMESPACES,
}
_ACTIONS: Final = ("ADD", "OBSERVE", "DELETE")
_ACTIONS_TEXT: Final = ", ".join(_ACTIONS)
_SHOW_MAX: Final = 80


class _Full(Exception):
    """Raised when the error limit is reached, to stop validating at once."""


class _Run:
    """The state of one validation: the errors so far, the prefixes in scope, the clock."""

    __slots__ = ("errors", "latest", "limit", "prefixes")

    def __init__(self, prefixes: dict[str, str], latest: datetime, limit: int) -> None:
        self.errors: list[FieldError] = []
        self.prefixes = prefixes
        self.latest = latest
        self.limit = limit

    def add(self, pointer: str, message: str, code: str, **params: Any) -> None:
        if len(self.errors) >= self.limit:
            raise _Full
        self.errors.append(FieldError(pointer, message, code, params))


_Check = Callable[[_Run, Any, str], None]


def _prefixes(namespaces: Mapping[str, str]) -> dict[str, str]:
    merged = dict(_STANDARD_PREFIXES)
    merged.update(namespaces)
    return merged


def _latest(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)) + FUTURE_TOLERANCE


def _esc(key: str) -> str:
    """A key as a JSON pointer token (RFC 6901)."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def _show(value: str) -> str:
    return value if len(value) <= _SHOW_MAX else value[: _SHOW_MAX - 1] + "…"


# basic values --------------------------------------------------------------------------------


def _wrong(run: _Run, ptr: str, expected: str) -> None:
    run.add(ptr, _WRONG_TYPE, "invalid_type", expected=expected)


def _string(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")


def _boolean(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not bool:
        _wrong(run, ptr, "boolean")


def _number(run: _Run, value: Any, ptr: str) -> bool:
    """A JSON number (not a boolean, not NaN or infinite)."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return True
    _wrong(run, ptr, "number")
    return False


def _hex(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
    elif not _HEX_RE.match(value):
        run.add(ptr, _HEX, "invalid_value")


def _uom(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
    elif not _UOM_RE.match(value):
        run.add(ptr, _UOM, "invalid_uom", value=_show(value))


def _zone(text: str) -> timezone:
    zone = _ZONES.get(text)
    if zone is None:
        minutes = int(text[1:3]) * 60 + int(text[4:6])
        zone = timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
        if len(_ZONES) < 2000:
            _ZONES[text] = zone
    return zone


def _moment(value: str) -> datetime | None:
    """The instant of an xsd:dateTime with a time zone (to the second), or None.

    Accepts a subset of what :func:`txng.epcis.timestamps.parse_timestamp` accepts (ASCII digits
    only; the same offset range), so that an accepted event is always stored."""
    match = _TIMESTAMP_RE.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=_zone(zone),
        )
        if moment.year in (1, 9999):  # the UTC instant might fall outside datetime's range
            moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment


def _timestamp(run: _Run, value: Any, ptr: str) -> datetime | None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
        return None
    moment = _moment(value)
    if moment is None:
        run.add(ptr, _TIMESTAMP, "invalid_timestamp", value=_show(value))
    return moment


def _time(run: _Run, value: Any, ptr: str) -> None:
    _timestamp(run, value, ptr)


def _event_time(run: _Run, value: Any, ptr: str) -> None:
    moment = _timestamp(run, value, ptr)
    if moment is not None and moment > run.latest:
        run.add(ptr, _FUTURE, "future_time")


def _offset(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
    elif not _OFFSET_RE.match(value):
        run.add(ptr, _OFFSET, "invalid_time_zone_offset", value=_show(value))


def _uri(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
    elif not _URI_RE.match(value):
        run.add(ptr, _URI, "invalid_uri", value=_show(value))


def _identifier(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
        return
    if not _URI_RE.match(value):
        run.add(ptr, _URI, "invalid_identifier", value=_show(value))
        return
    try:
        identifiers.canonical_id(value)
    except identifiers.IdentifierError as exc:
        run.add(ptr, _IDENTIFIER, "invalid_identifier", value=_show(value), reason=str(exc))


def _ignore(run: _Run, value: Any, ptr: str) -> None:
    return None


_FOLDABLE = frozenset(
    {"bizStep", "disposition", "bizTransactionType", "sourceDestType", "errorReason"}
)


def _vocabulary(kind: str, *, declared_prefix: bool = True, closed: bool = True) -> _Check:
    """A check for a vocabulary value of ``kind``. With ``declared_prefix``, ``prefix:value`` needs
    its prefix declared (or be a well-known URI scheme such as ``urn:``); without, any absolute
    URI is accepted (GS1's own examples use ``example:x`` as a sensor component undeclared).
    Without ``closed``, a term of the standard namespace that we do not list is accepted: the GS1
    Web Vocabulary of measurement types grows faster than the standard (GS1's XML examples use
    ``gs1:EffectiveDoseRate``)."""
    reserved = _RESERVED[kind]
    standard: set[str] = set()  # the standard spellings met so far: a set lookup next time
    # A standard Web URI with a slip in letter case (GS1's own SensorDataExamples.xml writes
    # ``Bizstep-sensor_reporting``) is read as the standard value it names, not refused.
    folded = {s.lower() for s in vocab.vocab_spellings(kind)} if kind in _FOLDABLE else set()

    def check(run: _Run, value: Any, ptr: str) -> None:
        if type(value) is not str:
            _wrong(run, ptr, "string")
            return
        if value in standard:
            return
        if vocab.vocab_short(kind, value) is not None or value.lower() in folded:
            standard.add(value)
            return
        if not _URI_RE.match(value):
            run.add(ptr, _VOCABULARY, "non_standard_vocabulary", value=_show(value))
            return
        prefix, _, rest = value.partition(":")
        base = run.prefixes.get(prefix)
        if base is not None and not rest.startswith("//"):
            full = base + rest
            if vocab.vocab_short(kind, full) is not None:
                return
        elif not declared_prefix or rest.startswith("//") or prefix.lower() in _OPAQUE_SCHEMES:
            full = value
        else:
            run.add(ptr, _PREFIX, "undeclared_prefix", prefix=_show(prefix))
            return
        if closed and full.startswith(reserved):
            run.add(ptr, _VOCABULARY, "non_standard_vocabulary", value=_show(value))

    return check


def _extension_key(run: _Run, key: str, ptr: str, strict: bool = False) -> None:
    """A key that is not a standard field: a namespaced extension, or an error."""
    if type(key) is not str:  # not from JSON, but never an exception
        key = str(key)
    prefix, sep, rest = key.partition(":")
    pointer = ptr + "/" + _esc(key)
    if strict or not sep or not prefix:
        message = _UNKNOWN_FIELD_STRICT if strict else _UNKNOWN_FIELD
        run.add(pointer, message, "unknown_field", name=_show(key))
    elif prefix not in run.prefixes and not (
        rest.startswith("//") or prefix.lower() in _OPAQUE_SCHEMES
    ):
        run.add(pointer, _PREFIX, "undeclared_prefix", prefix=_show(prefix))


def _object(
    run: _Run,
    value: Any,
    ptr: str,
    fields: Mapping[str, _Check],
    required: tuple[str, ...] = (),
    strict: bool = False,
) -> bool:
    """An object whose known fields are checked; other keys must be namespaced extensions
    (``strict``: no other keys at all)."""
    if type(value) is not dict:
        _wrong(run, ptr, "object")
        return False
    for key, item in value.items():
        check = fields.get(key)
        if check is not None:
            check(run, item, ptr + "/" + key)
        else:
            _extension_key(run, key, ptr, strict)
    for key in required:
        if key not in value:
            run.add(ptr + "/" + key, _REQUIRED, "required")
    return True


def _list_of(check: _Check, unique: bool = False, non_empty: bool = False) -> _Check:
    def check_list(run: _Run, value: Any, ptr: str) -> None:
        if type(value) is not list:
            _wrong(run, ptr, "array")
            return
        if non_empty and not value:
            run.add(ptr, _EMPTY, "empty")
            return
        seen: set[str] | None = set() if unique else None
        for index, item in enumerate(value):
            item_ptr = f"{ptr}/{index}"
            check(run, item, item_ptr)
            if seen is not None and type(item) is str:
                if item in seen:
                    run.add(item_ptr, _DUPLICATE, "duplicate")
                else:
                    seen.add(item)

    return check_list


# structured fields ---------------------------------------------------------------------------


def _quantity(run: _Run, value: Any, ptr: str) -> None:
    if _number(run, value, ptr) and value < 0:
        run.add(ptr, _AT_LEAST, "invalid_quantity", ge=0)


_QUANTITY_FIELDS: Final[dict[str, _Check]] = {
    "epcClass": _identifier,
    "quantity": _quantity,
    "uom": _uom,
}


def _quantity_element(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _QUANTITY_FIELDS, ("epcClass",), strict=True)


_LOCATION_FIELDS: Final[dict[str, _Check]] = {"id": _identifier}


def _location(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _LOCATION_FIELDS, ("id",))


_BIZ_TRANSACTION_FIELDS: Final[dict[str, _Check]] = {
    "type": _vocabulary("bizTransactionType"),
    "bizTransaction": _identifier,
}


def _biz_transaction(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _BIZ_TRANSACTION_FIELDS, ("bizTransaction",), strict=True)


_SOURCE_DEST_TYPE = _vocabulary("sourceDestType")
_SOURCE_FIELDS: Final[dict[str, _Check]] = {"type": _SOURCE_DEST_TYPE, "source": _identifier}
_DESTINATION_FIELDS: Final[dict[str, _Check]] = {
    "type": _SOURCE_DEST_TYPE,
    "destination": _identifier,
}


def _source(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _SOURCE_FIELDS, ("type", "source"), strict=True)


def _destination(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _DESTINATION_FIELDS, ("type", "destination"), strict=True)


_DISPOSITION = _vocabulary("disposition")
_DISPOSITION_SET = _list_of(_DISPOSITION, unique=True, non_empty=True)
_PERSISTENT_FIELDS: Final[dict[str, _Check]] = {
    "set": _DISPOSITION_SET,
    "unset": _DISPOSITION_SET,
}


def _persistent_disposition(run: _Run, value: Any, ptr: str) -> None:
    if _object(run, value, ptr, _PERSISTENT_FIELDS, strict=True) and not (
        "set" in value or "unset" in value
    ):
        run.add(ptr, _GIVE_ONE_OF, "missing_one_of", fields="set, unset")


_ERROR_DECLARATION_FIELDS: Final[dict[str, _Check]] = {
    "declarationTime": _time,
    "reason": _vocabulary("errorReason"),
    "correctiveEventIDs": _list_of(_uri),
}


def _error_declaration(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _ERROR_DECLARATION_FIELDS, ("declarationTime",))


def _certification_info(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is list:
        for index, item in enumerate(value):
            _uri(run, item, f"{ptr}/{index}")
    elif type(value) is str:
        _uri(run, value, ptr)
    else:
        _wrong(run, ptr, "string or array")


def _ilmd(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, {})


def _context(run: _Run, value: Any, ptr: str) -> None:
    if type(value) not in (str, dict, list):
        _wrong(run, ptr, "string, object or array")


_SENSOR_METADATA_FIELDS: Final[dict[str, _Check]] = {
    "time": _time,
    "startTime": _time,
    "endTime": _time,
    "deviceID": _identifier,
    "deviceMetadata": _uri,
    "rawData": _uri,
    "dataProcessingMethod": _uri,
    "bizRules": _uri,
}


def _sensor_metadata(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _SENSOR_METADATA_FIELDS)


def _decimal(run: _Run, value: Any, ptr: str) -> None:
    _number(run, value, ptr)


_SENSOR_REPORT_FIELDS: Final[dict[str, _Check]] = {
    "type": _vocabulary("measurementType", closed=False),
    "exception": _vocabulary("sensorAlertType", declared_prefix=False),
    "deviceID": _identifier,
    "deviceMetadata": _uri,
    "rawData": _uri,
    "dataProcessingMethod": _uri,
    "bizRules": _uri,
    "time": _time,
    "microorganism": _uri,
    "chemicalSubstance": _uri,
    "coordinateReferenceSystem": _uri,
    "value": _decimal,
    "component": _vocabulary("component", declared_prefix=False),
    "stringValue": _string,
    "booleanValue": _boolean,
    "hexBinaryValue": _hex,
    "uriValue": _uri,
    "minValue": _decimal,
    "maxValue": _decimal,
    "meanValue": _decimal,
    "sDev": _decimal,
    "percRank": _decimal,
    "percValue": _decimal,
    "uom": _uom,
}


def _sensor_report(run: _Run, value: Any, ptr: str) -> None:
    # ``type`` is optional in the standard and its XML schema (the JSON schema requires it).
    _object(run, value, ptr, _SENSOR_REPORT_FIELDS, ())


_SENSOR_ELEMENT_FIELDS: Final[dict[str, _Check]] = {
    "sensorMetadata": _sensor_metadata,
    "sensorReport": _list_of(_sensor_report, non_empty=True),
}


def _sensor_element(run: _Run, value: Any, ptr: str) -> None:
    _object(run, value, ptr, _SENSOR_ELEMENT_FIELDS, ("sensorReport",))


def _action(run: _Run, value: Any, ptr: str) -> None:
    if type(value) is not str:
        _wrong(run, ptr, "string")
    elif value not in _ACTIONS:
        run.add(ptr, _ONE_OF, "invalid_action", allowed=_ACTIONS_TEXT, value=_show(value))


# events --------------------------------------------------------------------------------------

_EPCS = _list_of(_identifier, unique=True)
_QUANTITIES = _list_of(_quantity_element)

_COMMON: Final[dict[str, _Check]] = {
    "@context": _context,
    "type": _ignore,  # checked first
    "eventTime": _event_time,
    "recordTime": _ignore,  # set by the repository
    "eventTimeZoneOffset": _offset,
    "eventID": _uri,
    "certificationInfo": _certification_info,
    "errorDeclaration": _error_declaration,
}
_WHAT_WHERE_WHY: Final[dict[str, _Check]] = {
    "bizStep": _vocabulary("bizStep"),
    "disposition": _DISPOSITION,
    "persistentDisposition": _persistent_disposition,
    "readPoint": _location,
    "bizLocation": _location,
    "bizTransactionList": _list_of(_biz_transaction),
    "sourceList": _list_of(_source),
    "destinationList": _list_of(_destination),
    "sensorElementList": _list_of(_sensor_element),
}
_OBJECT_FIELDS: Final[dict[str, _Check]] = {
    **_COMMON,
    **_WHAT_WHERE_WHY,
    "action": _action,
    "epcList": _EPCS,
    "quantityList": _QUANTITIES,
    "ilmd": _ilmd,
}
_AGGREGATION_FIELDS: Final[dict[str, _Check]] = {
    **_COMMON,
    **_WHAT_WHERE_WHY,
    "action": _action,
    "parentID": _identifier,
    "childEPCs": _EPCS,
    "childQuantityList": _QUANTITIES,
}
_TRANSACTION_FIELDS: Final[dict[str, _Check]] = {
    **_COMMON,
    **_WHAT_WHERE_WHY,
    "action": _action,
    "parentID": _identifier,
    "epcList": _EPCS,
    "quantityList": _QUANTITIES,
    "bizTransactionList": _list_of(_biz_transaction, non_empty=True),
}
_TRANSFORMATION_FIELDS: Final[dict[str, _Check]] = {
    **_COMMON,
    **_WHAT_WHERE_WHY,
    "inputEPCList": _EPCS,
    "inputQuantityList": _QUANTITIES,
    "outputEPCList": _EPCS,
    "outputQuantityList": _QUANTITIES,
    "transformationID": _identifier,
    "ilmd": _ilmd,
}
_ALL_EVENT_FIELDS: Final = frozenset(
    {*_OBJECT_FIELDS, *_AGGREGATION_FIELDS, *_TRANSACTION_FIELDS, *_TRANSFORMATION_FIELDS}
)


def _present(event: dict[str, Any], names: tuple[str, ...]) -> bool:
    for name in names:
        value = event.get(name)
        if type(value) is list and value:
            return True
    return False


def _need_one_of(run: _Run, event: dict[str, Any], ptr: str, names: tuple[str, ...]) -> None:
    """At least one of ``names`` must be a non-empty list (type errors are reported already)."""
    if _present(event, names):
        return
    given = [name for name in names if name in event]
    if not given:
        run.add(ptr, _GIVE_ONE_OF, "missing_one_of", fields=", ".join(names))
    elif all(type(event[name]) is list for name in given):
        run.add(f"{ptr}/{given[0]}", _EMPTY, "empty")


def _require(run: _Run, event: dict[str, Any], ptr: str, name: str) -> None:
    if name not in event:
        run.add(f"{ptr}/{name}", _REQUIRED, "required")


def _object_rules(run: _Run, event: dict[str, Any], ptr: str, action: Any) -> None:
    if "ilmd" in event and action in ("OBSERVE", "DELETE"):
        run.add(ptr + "/ilmd", _ONLY_ACTION, "not_allowed", action="ADD")
    if not (_present(event, ("sensorElementList",)) and "readPoint" in event):
        _need_one_of(run, event, ptr, ("epcList", "quantityList"))


def _aggregation_rules(run: _Run, event: dict[str, Any], ptr: str, action: Any) -> None:
    if action in ("ADD", "DELETE"):
        _require(run, event, ptr, "parentID")
    if action != "DELETE":
        _need_one_of(run, event, ptr, ("childEPCs", "childQuantityList"))


def _association_rules(run: _Run, event: dict[str, Any], ptr: str, action: Any) -> None:
    _require(run, event, ptr, "parentID")
    if action != "DELETE":
        _need_one_of(run, event, ptr, ("childEPCs", "childQuantityList"))


def _transaction_rules(run: _Run, event: dict[str, Any], ptr: str, action: Any) -> None:
    _require(run, event, ptr, "bizTransactionList")
    if action != "DELETE":
        _need_one_of(run, event, ptr, ("epcList", "quantityList"))


_INPUTS: Final = ("inputEPCList", "inputQuantityList")
_OUTPUTS: Final = ("outputEPCList", "outputQuantityList")


def _transformation_rules(run: _Run, event: dict[str, Any], ptr: str, action: Any) -> None:
    inputs = _present(event, _INPUTS)
    outputs = _present(event, _OUTPUTS)
    if inputs and outputs:
        return
    if not inputs and not outputs:
        _need_one_of(run, event, ptr, _INPUTS + _OUTPUTS)
    elif "transformationID" not in event:
        missing = _OUTPUTS if inputs else _INPUTS
        if not any(name in event for name in missing):
            fields = ", ".join((*missing, "transformationID"))
            run.add(ptr, _GIVE_ONE_OF, "missing_one_of", fields=fields)
        else:
            _need_one_of(run, event, ptr, missing)


_Rules = Callable[[_Run, dict[str, Any], str, Any], None]

# event type -> (its fields, whether action is required, its own rules)
_EVENT_TYPES: Final[dict[str, tuple[dict[str, _Check], bool, _Rules]]] = {
    "ObjectEvent": (_OBJECT_FIELDS, True, _object_rules),
    "AggregationEvent": (_AGGREGATION_FIELDS, True, _aggregation_rules),
    "TransactionEvent": (_TRANSACTION_FIELDS, True, _transaction_rules),
    "TransformationEvent": (_TRANSFORMATION_FIELDS, False, _transformation_rules),
    "AssociationEvent": (_AGGREGATION_FIELDS, True, _association_rules),
}
_EVENT_TYPES_TEXT: Final = ", ".join(_EVENT_TYPES)


def _event(run: _Run, event: Any, ptr: str) -> None:
    if type(event) is not dict:
        _wrong(run, ptr, "object")
        return
    context = event.get("@context")
    if context is not None:
        own = _own_namespaces(context)
        if own:
            saved = run.prefixes
            run.prefixes = {**saved, **own}
            try:
                _event_body(run, event, ptr)
            finally:
                run.prefixes = saved
            return
    _event_body(run, event, ptr)


def _event_body(run: _Run, event: dict[str, Any], ptr: str) -> None:
    event_type = event.get("type")
    spec = _EVENT_TYPES.get(event_type) if type(event_type) is str else None
    if spec is None:
        if event_type is None:
            run.add(ptr + "/type", _REQUIRED, "required")
        elif type(event_type) is not str:
            _wrong(run, ptr + "/type", "string")
        else:
            run.add(
                ptr + "/type",
                _UNKNOWN_EVENT_TYPE,
                "unknown_event_type",
                value=_show(event_type),
                allowed=_EVENT_TYPES_TEXT,
            )
        # The fields of an unknown type cannot be checked: only the common ones.
        for key, value in event.items():
            check = _COMMON.get(key)
            if check is not None:
                check(run, value, ptr + "/" + key)
        _require(run, event, ptr, "eventTime")
        _require(run, event, ptr, "eventTimeZoneOffset")
        return
    fields, needs_action, rules = spec
    for key, value in event.items():
        check = fields.get(key)
        if check is not None:
            check(run, value, ptr + "/" + key)
        elif key in _ALL_EVENT_FIELDS:
            run.add(ptr + "/" + key, _WRONG_EVENT, "not_allowed", event_type=event_type)
        else:
            _extension_key(run, key, ptr)
    if "eventTime" not in event:
        run.add(ptr + "/eventTime", _REQUIRED, "required")
    if "eventTimeZoneOffset" not in event:
        run.add(ptr + "/eventTimeZoneOffset", _REQUIRED, "required")
    action = event.get("action")
    if needs_action and "action" not in event:
        run.add(ptr + "/action", _REQUIRED, "required")
    rules(run, event, ptr, action if action in _ACTIONS else None)


def _own_namespaces(context: Any) -> dict[str, str]:
    """The prefixes an ``@context`` declares (``{"ex": "http://ns.example.com/"}``)."""
    try:
        return document_namespaces(context)
    except RecursionError:  # absurdly nested lists: nothing usable is declared there
        return {}


# public API ----------------------------------------------------------------------------------


def validate_event(
    event: Any,
    pointer: str,
    namespaces: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> list[FieldError]:
    """Every error of one event; ``pointer`` is where the event is in the submitted document
    (``""`` for an event posted on its own) and ``namespaces`` the document's prefixes."""
    run = _Run(_prefixes(namespaces), _latest(now), MAX_ERRORS)
    try:
        _event(run, event, pointer)
    except _Full:
        run.errors.append(FieldError(pointer, _TOO_MANY, "too_many", {"limit": MAX_ERRORS}))
    return run.errors


def validate_document(
    doc: Any, *, now: datetime | None = None
) -> tuple[list[FieldError], list[int]]:
    """Every error of an EPCISDocument (envelope and events) and the indexes of the events that
    have at least one error, so that the good ones can be stored under ``proceed``."""
    run = _Run(dict(_STANDARD_PREFIXES), _latest(now), MAX_ERRORS)
    bad: list[int] = []
    if type(doc) is not dict:
        _wrong(run, "", "object")
        return run.errors, bad
    events, list_ptr = _envelope(run, doc)
    if events is None:
        return run.errors, bad
    index = 0
    try:
        for index, event in enumerate(events):
            before = len(run.errors)
            _event(run, event, f"{list_ptr}/{index}")
            if len(run.errors) > before:
                bad.append(index)
    except _Full:
        if not bad or bad[-1] != index:
            bad.append(index)
        bad.extend(range(index + 1, len(events)))
        run.errors.append(FieldError(list_ptr, _TOO_MANY, "too_many", {"limit": MAX_ERRORS}))
    return run.errors, bad


def event_checker(
    doc: Any, *, now: datetime | None = None
) -> Callable[[Sequence[Any]], bool] | None:
    """For a capture that validates as it stores: None when the document around the events has
    an error (or holds no event list); else a function that tells whether all the events it is
    given (events of this document) are valid — exactly when :func:`validate_document` would
    report no error for them. It collects no errors: after a False, validate_document says
    which and where."""
    if type(doc) is not dict:
        return None
    run = _Run(dict(_STANDARD_PREFIXES), _latest(now), MAX_ERRORS)
    try:
        events = _envelope(run, doc)[0]
    except _Full:
        return None
    if events is None or run.errors:
        return None
    prefixes, latest = run.prefixes, run.latest

    def all_valid(events: Sequence[Any]) -> bool:
        check = _Run(prefixes, latest, 1)
        try:
            for event in events:
                _event(check, event, "")
        except _Full:
            return False
        return not check.errors

    return all_valid


_DOCUMENT_FIELDS: Final = frozenset(
    {
        "@context",
        "id",
        "type",
        "schemaVersion",
        "creationDate",
        "instanceIdentifier",
        "sender",
        "receiver",
        "epcisHeader",
        "epcisBody",
    }
)


def _envelope(run: _Run, doc: dict[str, Any]) -> tuple[list[Any] | None, str]:
    """Checks the document around the events; gives the event list (None when there is none to
    check) and its pointer."""
    doc_type = doc.get("type")
    query = doc_type == "EPCISQueryDocument"
    list_ptr = "/epcisBody/queryResults/resultsBody/eventList" if query else "/epcisBody/eventList"
    if "@context" in doc:
        _context(run, doc["@context"], "/@context")
        run.prefixes = _prefixes(_own_namespaces(doc["@context"]))
    if doc_type is None:
        run.add("/type", _REQUIRED, "required")
    elif type(doc_type) is not str:
        _wrong(run, "/type", "string")
    elif doc_type not in DOCUMENT_TYPES:
        run.add(
            "/type",
            _ONE_OF,
            "invalid_document_type",
            allowed=", ".join(DOCUMENT_TYPES),
            value=_show(doc_type),
        )
    version = doc.get("schemaVersion")
    if version is None:
        if not query:
            run.add("/schemaVersion", _REQUIRED, "required")
    elif type(version) is not str:
        _wrong(run, "/schemaVersion", "string")
    elif version not in SCHEMA_VERSIONS:
        run.add(
            "/schemaVersion",
            _ONE_OF,
            "unsupported_version",
            allowed=", ".join(SCHEMA_VERSIONS),
            value=_show(version),
        )
    if "creationDate" in doc:
        _time(run, doc["creationDate"], "/creationDate")
    elif not query:
        run.add("/creationDate", _REQUIRED, "required")
    if "id" in doc:
        _uri(run, doc["id"], "/id")
    for name in ("instanceIdentifier", "sender", "receiver"):
        if name in doc:
            _string(run, doc[name], "/" + name)
    if "epcisHeader" in doc and type(doc["epcisHeader"]) is not dict:
        _wrong(run, "/epcisHeader", "object")
    for key in doc:
        if key not in _DOCUMENT_FIELDS:
            _extension_key(run, key, "")
    return _event_list(run, doc, query), list_ptr


def _event_list(run: _Run, doc: dict[str, Any], query: bool) -> list[Any] | None:
    body = doc.get("epcisBody")
    if body is None:
        run.add("/epcisBody", _REQUIRED, "required")
        return None
    if type(body) is not dict:
        _wrong(run, "/epcisBody", "object")
        return None
    holder: Any = body
    ptr = "/epcisBody"
    if query:
        for name in ("queryResults", "resultsBody"):
            ptr += "/" + name
            holder = holder.get(name)
            if holder is None:
                run.add(ptr, _REQUIRED, "required")
                return None
            if type(holder) is not dict:
                _wrong(run, ptr, "object")
                return None
    events = holder.get("eventList")
    if events is None:
        run.add(ptr + "/eventList", _REQUIRED, "required")
        return None
    if type(events) is not list:
        _wrong(run, ptr + "/eventList", "array")
        return None
    return events
