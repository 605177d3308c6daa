"""The CBV 2.0 event hash ("Event hash ID", ``ni:///sha-256;<hex>?ver=CBV2.0``).

An EPCIS event captured without an ``eventID`` gets the hash of its canonical *pre-hash string*
as its ID.  This module builds that string directly from the compact JSON-LD event dict (as found
in an EPCISDocument's ``eventList``), following GS1 CBV 2.0 section 8.9 and the behaviour of the
reference implementation (the ``epcis-event-hash-generator`` package), whose test vectors are the
ground truth:

* ``eventType=<type>`` first, then the fields of the canonical property order
  (:data:`_ORDER`), each as ``name=value``; container fields (``epcList``, ``readPoint``,
  ``sensorElementList`` …) as their name followed by their children; several values of the same
  field are sorted (plain code-point order);
* user extensions nested in a standard field (``readPoint``, ``sensorReport`` …) follow that
  field's standard children; everything the property order does not place — ``ilmd``, the
  ``bizTransactionList``/``sourceList``/``destinationList`` (rendered ``type=…`` then the value),
  event-level extensions, and any leftovers — is appended at the end, sorted;
* extension keys are written ``{namespace IRI}localName`` using the document's prefixes;
* ``recordTime``, ``eventID``, ``errorDeclaration``, ``type``, JSON-LD ``@`` keys and comments
  are not part of the hash, nor are fields named in a document's ``ignoreFields`` list;
* values: surrounding whitespace trimmed; CBV URNs (``urn:epcglobal:cbv:bizstep:shipping``),
  bare CBV names in vocabulary fields (``shipping``) and ``cbv:``/``gs1:`` CURIEs become Web URIs
  (``https://ref.gs1.org/cbv/BizStep-shipping``); numbers lose trailing zeros (``26.0`` → ``26``);
  booleans are ``true``/``false``; GS1 identifiers become canonical Digital Links
  (:func:`txng.epcis.identifiers.canonical_id`); the timestamps ``eventTime``, ``time``,
  ``startTime`` and ``endTime`` are written in UTC with milliseconds (``…T10:00:30.000Z``).

Deliberate differences from the reference implementation (version 1.9.3), for inputs it
mishandles or where its JSON and XML readers disagree; the choices follow the XML reader and the
conformance vectors:

* JSON booleans are ``true``/``false`` (the reference writes Python's ``True``);
* user-defined CURIEs in *values* (``example:foo``) are not expanded (only ``gs1:``/``cbv:``);
* bare vocabulary names are expanded only in vocabulary fields, not anywhere in the document;
* extension keys ending in ``List`` are kept as they are (no list-element wrapper);
* the prefixes of the standard EPCIS context (``cbvmda``, ``gs1`` …) expand extension keys even
  when the document's own context does not repeat them; an event-level ``@context`` adds prefixes;
* a business transaction (source, destination) without a type is accepted; ``type`` always comes
  first, whatever the JSON key order;
* malformed GS1 identifiers (e.g. a Digital Link with a bad check digit) are hashed as written,
  and identifiers whose serial needs percent-encoding are canonicalised like any other;
* timestamps without an offset are read as UTC (not as the machine's local time), and a fraction
  that rounds up to the next second carries over instead of failing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Union

from txng.epcis.identifiers import IdentifierError, canonical_id
from txng.epcis.vocab import vocab_spellings

__all__ = [
    "document_events",
    "document_hashes",
    "document_ignore_fields",
    "document_namespaces",
    "event_hash",
    "prehash",
]

# A node of the intermediate tree: (name, text, children).  Children lists are mutated while the
# pre-hash string is built (consumed children are removed), so a tree is built once per call.
_Node = tuple[str, str, list[Any]]
# The canonical property order: name -> (position, order of the children or None, is a timestamp).
_Order = Mapping[str, tuple[int, Union["_Order", None], bool]]


def _o(*entries: tuple[str, _Order | None] | str) -> _Order:
    out: dict[str, tuple[int, _Order | None, bool]] = {}
    for position, entry in enumerate(entries):
        name, sub = (entry, None) if isinstance(entry, str) else entry
        low = name.lower()
        out[name] = (position, sub, "time" in low and "offset" not in low)
    return out


_QUANTITY: Final = _o(("quantityElement", _o("epcClass", "quantity", "uom")))
_EPCS: Final = _o("epc")
_ORDER: Final = _o(
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    ("epcList", _EPCS),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", _EPCS),
    ("outputQuantityList", _QUANTITY),
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    ("persistentDisposition", _o("set", "unset")),
    ("readPoint", _o("id")),
    ("bizLocation", _o("id")),
    (
        "sensorElementList",
        _o(
            (
                "sensorElement",
                _o(
                    (
                        "sensorMetadata",
                        _o(
                            "time",
                            "startTime",
                            "endTime",
                            "deviceID",
                            "deviceMetadata",
                            "rawData",
                            "dataProcessingMethod",
                            "bizRules",
                        ),
                    ),
                    (
                        "sensorReport",
                        _o(
                            "type",
                            "exception",
                            "deviceID",
                            "deviceMetadata",
                            "rawData",
                            "dataProcessingMethod",
                            "time",
                            "microorganism",
                            "chemicalSubstance",
                            "value",
                            "component",
                            "stringValue",
                            "booleanValue",
                            "hexBinaryValue",
                            "uriValue",
                            "minValue",
                            "maxValue",
                            "meanValue",
                            "sDev",
                            "percRank",
                            "percValue",
                            "uom",
                            "coordinateReferenceSystem",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# Fields that never take part in the hash (event level).
_EXCLUDED: Final = frozenset({"recordTime", "eventID", "type", "errorDeclaration"})
# Keys ignored at every level.
_IGNORED_KEYS: Final = frozenset({"#text", "rdfs:comment", "comment"})
# Children that keep their document order when rendered generically.
_UNSORTED: Final = frozenset({"bizTransaction", "source", "destination"})
# Lists whose entries are rendered as "type=<type>" followed by "<name>=<value>".
_TYPED_LISTS: Final = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
# Element names of "...List" containers that differ from the list name without "List".
_ELEMENT_NAMES: Final = {
    "inputEPC": "epc",
    "outputEPC": "epc",
    "inputQuantity": "quantityElement",
    "outputQuantity": "quantityElement",
    "childQuantity": "quantityElement",
}

# Where bare CBV names are expanded: key -> vocabulary kind, or a sub-tree for nested objects.
_VocabTree = Mapping[str, Union[str, "_VocabTree"]]
_SENSOR_REPORT_VOCAB: Final[_VocabTree] = {
    "type": "measurementType",
    "exception": "sensorAlertType",
    "component": "component",
}
_EVENT_VOCAB: Final[_VocabTree] = {
    "bizStep": "bizStep",
    "disposition": "disposition",
    "persistentDisposition": {"set": "disposition", "unset": "disposition"},
    "sensorElementList": {"sensorReport": _SENSOR_REPORT_VOCAB},
}

# Prefixes of the standard EPCIS 2.0 JSON-LD context, used when the document does not define them.
STANDARD_PREFIXES: Final = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# CURIEs expanded in values (the standard GS1 vocabularies only, as in the XML binding).
_VALUE_CURIES: Final = (("gs1:", "https://gs1.org/voc/"), ("cbv:", "https://ref.gs1.org/cbv/"))
_CBV_URNS: Final = {
    "bizstep": "https://ref.gs1.org/cbv/BizStep-",
    "disp": "https://ref.gs1.org/cbv/Disp-",
    "btt": "https://ref.gs1.org/cbv/BTT-",
    "sdt": "https://ref.gs1.org/cbv/SDT-",
    "er": "https://ref.gs1.org/cbv/ER-",
}
# Every spelling of a standard vocabulary value -> its Web URI, per vocabulary kind.
_VOCAB: Final = {
    kind: vocab_spellings(kind)
    for kind in (
        "bizStep",
        "disposition",
        "bizTransactionType",
        "sourceDestType",
        "measurementType",
        "sensorAlertType",
        "component",
    )
}
_CBV_URN_PREFIX: Final = "urn:epcglobal:cbv:"
_NUMBER_START: Final = frozenset("0123456789+-.")

_TIMESTAMP: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)

_CACHE_MAX: Final = 100_000
_value_cache: dict[str, str] = {}
_time_cache: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------
# value canonicalisation


def _canonical_number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if number.is_integer():
        return str(int(number))
    return repr(number)


def _canonical_value(text: str) -> str:
    """Canonical form of a (stripped) value that is not a timestamp."""
    cached = _value_cache.get(text)
    if cached is not None:
        return cached
    value = text
    if value.startswith(_CBV_URN_PREFIX):
        kind, sep, name = value[len(_CBV_URN_PREFIX) :].partition(":")
        base = _CBV_URNS.get(kind)
        if sep and base is not None:
            value = base + name
    else:
        for prefix, iri in _VALUE_CURIES:
            if value.startswith(prefix):
                value = iri + value[len(prefix) :]
                break
    first = value[0]
    if first in _NUMBER_START or (not first.isascii() and first.isdigit()):
        value = _canonical_number(value)
    try:  # noqa: SIM105 - hot path, cheaper than contextlib.suppress
        value = canonical_id(value)
    except IdentifierError:
        pass  # malformed GS1 identifiers are hashed as written
    if len(_value_cache) >= _CACHE_MAX:
        _value_cache.clear()
    _value_cache[text] = value
    return value


def _canonical_time(text: str) -> str:
    """A timestamp in UTC with millisecond precision (``YYYY-MM-DDThh:mm:ss.sssZ``).

    Fractions beyond microseconds are truncated, then rounded to milliseconds half-to-even (as
    the reference implementation does).  Text that is no ISO 8601 timestamp is kept as is.
    """
    cached = _time_cache.get(text)
    if cached is not None:
        return cached
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return text
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    millis = round(micro, -3) // 1000
    try:
        moment = datetime(  # noqa: DTZ001 - naive UTC arithmetic, offset applied below
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
        )
        moment += timedelta(milliseconds=millis)
        if sign is not None and zulu is None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
            moment = moment - offset if sign == "+" else moment + offset
    except (ValueError, OverflowError):
        return text
    result = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )
    if len(_time_cache) >= _CACHE_MAX:
        _time_cache.clear()
    _time_cache[text] = result
    return result


# ---------------------------------------------------------------------------------------------
# JSON -> tree


def _expand_key(key: str, namespaces: Mapping[str, str]) -> str:
    colon = key.find(":")
    if colon <= 0:
        return key
    prefix = key[:colon]
    iri = namespaces.get(prefix) or STANDARD_PREFIXES.get(prefix)
    if iri is None:
        return key
    return "{" + iri + "}" + key[colon + 1 :]


def _scalar(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return None
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)


def _nodes(
    name: str, value: Any, namespaces: Mapping[str, str], vocab: str | _VocabTree | None
) -> list[_Node]:
    """The nodes for one key: one per value (a list gives several nodes with the same name)."""
    kind = type(value)
    if kind is str:
        if isinstance(vocab, str):
            text = value.strip()
            return [(name, _VOCAB[vocab].get(text, text), [])]
        return [(name, value, [])]
    if kind is list or (kind is not dict and isinstance(value, list)):
        out: list[_Node] = []
        for item in value:
            if isinstance(item, list):
                out.append((name, "", [n for i in item for n in _nodes("", i, namespaces, None)]))
            else:
                out.extend(_nodes(name, item, namespaces, vocab))
        return out
    if kind is dict or isinstance(value, Mapping):
        sub = vocab if isinstance(vocab, Mapping) else None
        text = _scalar(value["#text"]) or "" if "#text" in value else ""
        return [(name, text, _children(value, namespaces, sub))]
    text = _scalar(value)
    if text is None:
        return []
    if isinstance(vocab, str):
        text = text.strip()
        text = _VOCAB[vocab].get(text, text)
    return [(name, text, [])]


def _typed_entry(entry: Any, value_key: str, namespaces: Mapping[str, str]) -> _Node:
    """A bizTransaction/source/destination entry, pre-rendered as ``type=…<key>=…``."""
    if not isinstance(entry, Mapping):
        return (_render_generic_node((value_key, _scalar(entry) or "", [])), "", [])
    vocab = _VOCAB["bizTransactionType" if value_key == "bizTransaction" else "sourceDestType"]
    text = ""
    type_value = _scalar(entry.get("type"))
    if type_value is not None:
        type_value = type_value.strip()
        text += _render_generic_node(("type", vocab.get(type_value, type_value), []))
    id_value = _scalar(entry.get(value_key))
    if id_value is not None:
        text += _render_generic_node((value_key, id_value, []))
    if len(entry) > (type_value is not None) + (id_value is not None):
        extra = {k: v for k, v in entry.items() if k not in ("type", value_key)}
        text += _render_generic(_children(extra, namespaces, None))
    return (text, "", [])


# How a key is turned into nodes: (action, element name of a list); keys without a prefix are
# cached, prefixed keys depend on the namespaces and are expanded each time.
_SKIP, _PLAIN, _TYPED, _LIST, _CHILD_EPCS = range(5)
_key_actions: dict[str, tuple[int, str]] = {}


def _key_action(key: str) -> tuple[int, str]:
    action = _key_actions.get(key)
    if action is None:
        if key in _IGNORED_KEYS or key.startswith("@"):
            action = (_SKIP, "")
        elif key in _TYPED_LISTS:
            action = (_TYPED, _TYPED_LISTS[key])
        elif key == "childEPCs":
            action = (_CHILD_EPCS, "epc")
        elif ":" not in key and key.endswith("List"):
            element = key[:-4]
            action = (_LIST, _ELEMENT_NAMES.get(element, element))
        else:
            action = (_PLAIN, "")
        if len(_key_actions) < 10_000:
            _key_actions[key] = action
    return action


def _children(
    obj: Mapping[str, Any], namespaces: Mapping[str, str], vocab: _VocabTree | None
) -> list[_Node]:
    out: list[_Node] = []
    for key, value in obj.items():
        action, element = _key_action(key)
        if action == _PLAIN:
            kind = vocab.get(key) if vocab else None
            if ":" in key:
                key = _expand_key(key, namespaces)
            if type(value) is str and kind is None:
                out.append((key, value, []))
            else:
                out.extend(_nodes(key, value, namespaces, kind))
        elif action == _LIST:
            items: list[_Node] = []
            for _, text, grand in _nodes(key, value, namespaces, vocab.get(key) if vocab else None):
                el = "quantityElement" if element == "quantity" and grand else element
                items.append((el, text, grand))
            if items:
                out.append((key, "", items))
        elif action == _TYPED:
            entries = value if isinstance(value, list) else [value]
            typed = [_typed_entry(e, element, namespaces) for e in entries]
            if typed:
                out.append((key, "", typed))
        elif action == _CHILD_EPCS:
            epcs: list[_Node] = [
                ("epc", text, []) for _, text, _ in _nodes(key, value, namespaces, None)
            ]
            if epcs:
                out.append((key, "", epcs))
    return out


# ---------------------------------------------------------------------------------------------
# rendering


def _render_generic_node(node: _Node) -> str:
    name, text, children = node
    text = text.strip()
    if text:
        name += "=" + _canonical_value(text)
    if children:
        name += _render_generic(children)
    return name


def _render_generic(nodes: list[_Node]) -> str:
    parts = [_render_generic_node(n) for n in nodes]
    if len(parts) > 1 and not any(n[0] in _UNSORTED for n in nodes):
        parts.sort()
    return "".join(parts)


def _is_user_extension(name: str) -> bool:
    return "{" in name and "/}" in name


def _render_ordered(children: list[_Node], order: _Order) -> str:
    """Render ``children`` in the given order; consumed children are removed from the list.

    A child is consumed when it was rendered and has no children left; user extensions of a
    standard field are rendered after its standard children.  Whatever is left is rendered later
    (sorted) at the end of the pre-hash string.  Several values of one field are sorted.
    """
    extensions: list[_Node] | None = None
    if len(children) > 1:
        extensions = [n for n in children if "{" in n[0] and "/}" in n[0]]
        if extensions:
            for n in children:
                if "eventTime" in n[0] or "action" in n[0]:
                    extensions = None  # event level: extensions go to the end
                    break
            else:
                children[:] = [n for n in children if not _is_user_extension(n[0])]
    rendered: list[tuple[int, str]] = []
    rest: list[_Node] = []
    for node in children:
        spec = order.get(node[0])
        if spec is None:
            rest.append(node)
            continue
        position, sub, is_time = spec
        name, text, grand = node
        if sub is None and not grand:  # a plain field: the common case
            text = text.strip()
            if text:
                text = _canonical_time(text) if is_time else _canonical_value(text)
                rendered.append((position, name + "=" + text))
            continue
        text = _render_ordered_node(node, sub, is_time)
        if text:
            rendered.append((position, text))
        if grand:
            rest.append(node)  # not fully consumed: the leftovers are rendered at the end
    if len(rest) != len(children):
        children[:] = rest
    rendered.sort()
    out = "".join([text for _, text in rendered])
    if extensions:
        out += _render_generic(extensions)
    return out


def _render_ordered_node(node: _Node, sub: _Order | None, is_time: bool) -> str:
    name, text, children = node
    grand = _render_ordered(children, sub) if sub is not None else ""
    text = text.strip()
    if text:
        text = _canonical_time(text) if is_time else _canonical_value(text)
    if text:
        return name + "=" + text + grand
    if grand:
        return name + grand
    return ""


# ---------------------------------------------------------------------------------------------
# public API


def document_namespaces(context: Any) -> dict[str, str]:
    """The prefix → IRI map of a JSON-LD ``@context`` (a string, a dict, or a list of them).

    Context URLs (such as the standard EPCIS context) and JSON-LD keywords are ignored; only
    prefix definitions whose value is an IRI string are kept.
    """
    out: dict[str, str] = {}
    if isinstance(context, Mapping):
        for key, value in context.items():
            if isinstance(key, str) and not key.startswith("@") and isinstance(value, str):
                out[key] = value
    elif isinstance(context, list):
        for item in context:
            out.update(document_namespaces(item))
    return out


def _ignored(
    ignore_fields: Collection[str], namespaces: Mapping[str, str]
) -> frozenset[str] | None:
    if not ignore_fields:
        return None
    return frozenset(_expand_key(f, namespaces) for f in ignore_fields)


# ---------------------------------------------------------------------------------------------
# the fast path: events made only of the common standard fields, in their common shapes

# Event-level keys the fast path renders in place (name -> position in _ORDER, vocabulary kind).
_FAST_SCALARS: Final = {
    name: (_ORDER[name][0], kind)
    for name, kind in (
        ("eventTime", None),
        ("eventTimeZoneOffset", None),
        ("certificationInfo", None),
        ("parentID", None),
        ("action", None),
        ("transformationID", None),
        ("bizStep", "bizStep"),
        ("disposition", "disposition"),
    )
}
_FAST_EPC_LISTS: Final = {
    name: _ORDER[name][0] for name in ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
}
_FAST_QUANTITY_LISTS: Final = {
    name: _ORDER[name][0]
    for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
}
_FAST_PLACES: Final = {name: _ORDER[name][0] for name in ("readPoint", "bizLocation")}
_FAST_SKIPPED: Final = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})
_QUANTITY_KEYS: Final = ("epcClass", "quantity", "uom")


class _NotFast(Exception):
    """The event has a field or a shape that only the general path renders."""


def _fast_text(value: Any) -> str:
    """A stripped, non-empty string value (the general path drops empty ones: so do we, but
    only where that is all it does)."""
    if type(value) is not str:
        raise _NotFast
    return value.strip()


def _fast_epcs(name: str, values: Any) -> str:
    if type(values) is not list:
        raise _NotFast
    parts = sorted(["epc=" + _canonical_value(t) for v in values if (t := _fast_text(v))])
    return name + "".join(parts) if parts else ""


def _fast_quantities(name: str, values: Any) -> str:
    if type(values) is not list:
        raise _NotFast
    parts: list[str] = []
    for element in values:
        if type(element) is not dict or not element or not element.keys() <= {*_QUANTITY_KEYS}:
            raise _NotFast
        text = ""
        for key in _QUANTITY_KEYS:
            if key not in element:
                continue
            value = element[key]
            if type(value) is str:
                value = value.strip()
            elif type(value) in (int, float):
                value = str(value)
            else:
                raise _NotFast
            if value:
                text += key + "=" + _canonical_value(value)
        if text:  # an element whose values are all empty renders nothing
            parts.append("quantityElement" + text)
    parts.sort()
    return name + "".join(parts) if parts else ""


def _fast_typed(name: str, values: Any) -> str:
    """bizTransactionList / sourceList / destinationList: typed entries, sorted."""
    if type(values) is not list:
        raise _NotFast
    value_key = _TYPED_LISTS[name]
    vocab = _VOCAB["bizTransactionType" if value_key == "bizTransaction" else "sourceDestType"]
    parts: list[str] = []
    for entry in values:
        if type(entry) is not dict or not entry.keys() <= {"type", value_key}:
            raise _NotFast
        text = ""
        if "type" in entry:
            kind = _fast_text(entry["type"])
            if not kind:
                raise _NotFast
            text = "type=" + _canonical_value(vocab.get(kind, kind))
        if value_key in entry:
            value = _fast_text(entry[value_key])
            if not value:
                raise _NotFast
            text += value_key + "=" + _canonical_value(value)
        parts.append(text)
    parts.sort()
    return name + "".join(parts) if parts else ""


def _fast_prehash(event: Mapping[str, Any]) -> str | None:
    """The pre-hash string of an event made only of the common standard fields (plain strings,
    lists of EPC strings, quantity elements, ``{"id": …}`` places, typed business transactions,
    sources and destinations), rendered straight to text; None for any other event, which the
    general path renders. Both give the same string (tests/epcis/test_hashing.py)."""
    event_type = event.get("type")
    if type(event_type) is not str:
        return None
    placed: list[tuple[int, str]] = []
    rest: list[str] = []
    try:
        for key, value in event.items():
            if key in _FAST_SKIPPED:
                continue
            if key in _FAST_SCALARS:
                position, kind = _FAST_SCALARS[key]
                text = _fast_text(value)
                if kind is not None:
                    text = _VOCAB[kind].get(text, text).strip()
                if text:
                    text = _canonical_time(text) if key == "eventTime" else _canonical_value(text)
                    placed.append((position, key + "=" + text))
            elif key in _FAST_EPC_LISTS:
                if text := _fast_epcs(key, value):
                    placed.append((_FAST_EPC_LISTS[key], text))
            elif key in _FAST_QUANTITY_LISTS:
                if text := _fast_quantities(key, value):
                    placed.append((_FAST_QUANTITY_LISTS[key], text))
            elif key in _FAST_PLACES:
                if type(value) is not dict or value.keys() != {"id"}:
                    return None
                if place := _fast_text(value["id"]):
                    placed.append((_FAST_PLACES[key], key + "id=" + _canonical_value(place)))
            elif key in _TYPED_LISTS:
                if text := _fast_typed(key, value):
                    rest.append(text)
            else:
                return None
    except _NotFast:
        return None
    placed.sort()
    rest.sort()
    return "eventType=" + event_type + "".join([t for _, t in placed]) + "".join(rest)


def prehash(
    event: Mapping[str, Any],
    namespaces: Mapping[str, str],
    *,
    ignore_fields: Collection[str] = (),
) -> str:
    """The canonical pre-hash string of one JSON-LD event.

    ``namespaces`` maps the document's own ``@context`` prefixes to IRIs (see
    :func:`document_namespaces`); the standard EPCIS/CBV terms are built in.  ``ignore_fields``
    names event-level fields to leave out (``prefix:local`` or ``{iri}local``), see
    :func:`document_ignore_fields`.
    """
    if not ignore_fields:
        fast = _fast_prehash(event)
        if fast is not None:
            return fast
    return _general_prehash(event, namespaces, ignore_fields)


def _general_prehash(
    event: Mapping[str, Any], namespaces: Mapping[str, str], ignore_fields: Collection[str] = ()
) -> str:
    """The pre-hash string of any event, through the intermediate tree."""
    local_context = event.get("@context")
    if local_context is not None:
        namespaces = {**namespaces, **document_namespaces(local_context)}
    children = _children(event, namespaces, _EVENT_VOCAB)
    ordered = _render_ordered(children, _ORDER)
    ignored = _ignored(ignore_fields, namespaces)
    rest = [
        n for n in children if n[0] not in _EXCLUDED and (ignored is None or n[0] not in ignored)
    ]
    return "eventType=" + (_scalar(event.get("type")) or "") + ordered + _render_generic(rest)


def event_hash(
    event: Mapping[str, Any],
    namespaces: Mapping[str, str],
    *,
    ignore_fields: Collection[str] = (),
) -> str:
    """The CBV 2.0 event hash ID: ``ni:///sha-256;<64 lowercase hex>?ver=CBV2.0``."""
    text = prehash(event, namespaces, ignore_fields=ignore_fields)
    return "ni:///sha-256;" + hashlib.sha256(text.encode("utf-8")).hexdigest() + "?ver=CBV2.0"


def document_ignore_fields(
    document: Mapping[str, Any], namespaces: Mapping[str, str]
) -> frozenset[str]:
    """Field names listed in an ``<prefix>:ignoreFields`` entry of a document, expanded.

    The entry is looked for on the document itself, its ``epcisHeader``, its ``epcisBody`` and a
    query document's ``queryResults``.  The list may be a JSON array of names, a single name, or
    (from XML) an object whose keys are the names.
    """
    body = document.get("epcisBody")
    places: list[Any] = [document, document.get("epcisHeader"), body]
    if isinstance(body, Mapping):
        places.append(body.get("queryResults"))
    out: set[str] = set()
    for place in places:
        if not isinstance(place, Mapping):
            continue
        for key, value in place.items():
            if not isinstance(key, str) or not (
                key == "ignoreFields" or key.endswith((":ignoreFields", "}ignoreFields"))
            ):
                continue
            names: list[Any]
            if isinstance(value, Mapping):
                names = list(value.keys())
            elif isinstance(value, list):
                names = value
            else:
                names = [value]
            out.update(_expand_key(n, namespaces) for n in names if isinstance(n, str) and n)
    return frozenset(out)


def document_events(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The events of an EPCISDocument or EPCISQueryDocument dict, in document order."""
    body = document.get("epcisBody") or {}
    if "eventList" in body:
        return list(body["eventList"] or [])
    results = (body.get("queryResults") or {}).get("resultsBody") or {}
    if "eventList" in results:
        return list(results["eventList"] or [])
    if "event" in body:
        return [body["event"]]
    return []


def document_hashes(document: Mapping[str, Any]) -> list[str]:
    """The event hash of every event of an EPCIS (query) document dict, in document order."""
    namespaces = document_namespaces(document.get("@context"))
    ignored = document_ignore_fields(document, namespaces)
    return [event_hash(e, namespaces, ignore_fields=ignored) for e in document_events(document)]
