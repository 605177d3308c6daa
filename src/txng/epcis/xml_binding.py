"""The EPCIS 2.0 XML binding, mapped to and from the JSON-LD document shape used internally.

Internally every EPCIS document is the JSON-LD shape: a plain ``dict`` exactly like a parsed
``.jsonld`` ``EPCISDocument`` (compact keys, the standard EPCIS 2.0 context plus one dict of
``prefix -> namespace IRI`` for user extensions). This module converts the XML binding into that
shape (:func:`parse_document`, :func:`parse_query_document`) and back (:func:`render_document`,
:func:`render_query_document`).

The parser converts *structure* only. Values of standard fields are kept exactly as written
(``urn:epcglobal:cbv:bizstep:shipping`` stays as it is, identifiers are not normalised); semantic
checks (allowed ``action`` values, timestamps, vocabularies...) belong to the validator, which
sees XML and JSON-LD captures alike. The parser raises :class:`XmlBindingError` only when the XML
cannot be mapped at all: malformed XML, a DOCTYPE with declarations, an unknown event element, an
element that has no place in the JSON shape, a number or boolean that is not one.

Mapping rules for user extensions (elements and attributes in a namespace other than EPCIS):

* an element ``{ns}local`` becomes the key ``prefix:local``; the prefix is the one written in the
  XML and ``prefix -> ns`` is registered in the ``@context`` dict. A prefix that is bound to
  different IRIs in different places, that is the default namespace, or that clashes with a
  (protected) term of the standard EPCIS context gets an invented unique prefix (``ext1_1``,
  ``cbvmda_1``, ``ns_1``...). The namespace IRI is kept exactly as written (no ``/`` is
  appended), so ``{ns}local`` can always be rebuilt as ``context[prefix] + local``;
* an element without child elements or attributes becomes its (stripped) text; otherwise a dict:
  child elements and non-``xsi`` attributes become keys (a child without a namespace, allowed
  inside an extension element only, keeps its bare local name), repeated siblings become a list,
  and text next to attributes is kept under ``"#text"``;
* ``xsi:*`` attributes (``xsi:type``, ``xsi:schemaLocation``...) are typing hints and dropped.

The 1.x ``<extension>``/``<baseExtension>`` wrappers are unwrapped everywhere, and EPCIS 1.x
documents (namespace ``urn:epcglobal:epcis:xsd:1``) are accepted too (their ``schemaVersion`` is
kept as written). From the header only the SBDH sender, receiver and instance identifier and the
master data (``epcisHeader.epcisMasterData.vocabularyList``) are kept.

Safety: lxml parses with ``resolve_entities=False, no_network=True, huge_tree=False,
load_dtd=False``; entity declarations, external DTDs and element declarations are refused (a bare
``<!DOCTYPE project>``, as found in GS1's own examples, is harmless and accepted). Events are
converted as they are parsed (``iterparse``) and dropped from the tree, so memory stays small;
10,000 events (10 MB) take about 0.3 s.

Rendering is the inverse: EPCIS 2.0 element order, extension keys back to namespaced elements
(declared once, on the root element). Extension attributes come back as child elements unless
the object also has ``"#text"``; extension values typed in JSON (numbers, booleans) become text.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any, Final, cast

from lxml import etree

__all__ = [
    "EPCIS_CONTEXT_URL",
    "EPCIS_NS",
    "EPCIS_QUERY_NS",
    "XmlBindingError",
    "parse_document",
    "parse_query_document",
    "render_document",
    "render_query_document",
]

EPCIS_CONTEXT_URL: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_NS: Final = "urn:epcglobal:epcis:xsd:2"
EPCIS_NS_1: Final = "urn:epcglobal:epcis:xsd:1"
EPCIS_QUERY_NS: Final = "urn:epcglobal:epcis-query:xsd:2"
EPCIS_QUERY_NS_1: Final = "urn:epcglobal:epcis-query:xsd:1"
SBDH_NS: Final = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

_XSI_PREFIX: Final = "{" + XSI_NS + "}"
_XML_PREFIX: Final = "{http://www.w3.org/XML/1998/namespace}"
_EPCIS_NAMESPACES: Final = frozenset({EPCIS_NS, EPCIS_NS_1, EPCIS_QUERY_NS, EPCIS_QUERY_NS_1})

# Prefixes defined by the standard (protected) EPCIS 2.0 JSON-LD context.
_STANDARD_PREFIXES: Final[Mapping[str, str]] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
_STANDARD_PREFIX_BY_IRI: Final[Mapping[str, str]] = {v: k for k, v in _STANDARD_PREFIXES.items()}
# Other terms of the standard context (protected: they cannot become extension prefixes), plus
# names that would make compact IRIs ambiguous.
_RESERVED_TERMS: Final = frozenset(
    {
        "AggregationEvent", "AssociationEvent", "Collection", "EPCISDocument",
        "EPCISQueryDocument", "ObjectEvent", "TransactionEvent", "TransformationEvent", "action",
        "baseURL", "bizLocation", "bizStep", "bizTransactionList", "certificationInfo",
        "childEPCs", "childQuantityList", "children", "creationDate", "destinationList",
        "disposition", "epcClass", "epcList", "epcisBody", "epcisHeader", "errorDeclaration",
        "eventID", "eventList", "eventTime", "eventTimeZoneOffset", "id", "ilmd", "inputEPCList",
        "inputQuantityList", "instanceIdentifier", "masterData", "member", "outputEPCList",
        "outputQuantityList", "parentID", "persistentDisposition", "quantity", "quantityList",
        "queryName", "queryResults", "readPoint", "receiver", "recordTime", "resultsBody",
        "schemaVersion", "sender", "sensorElementList", "sourceList", "subscriptionID",
        "transformationID", "type", "uom", "vocabularyList",
        "_", "http", "https", "urn", "xml", "xmlns",
    }
)  # fmt: skip

EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)

_SENSOR_NUMBERS: Final = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)
_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_NUM_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NCNAME_RE: Final = re.compile(r"[A-Za-z_][\w.\-]*")


class XmlBindingError(ValueError):
    """The XML cannot be mapped to (or rendered from) the EPCIS JSON-LD shape.

    ``pointer`` is the JSON pointer of the offending place in the JSON shape (``""`` for the
    document as a whole); ``line`` the line in the XML input, when known.
    """

    def __init__(self, message: str, pointer: str = "", line: int | None = None) -> None:
        where = f" (line {line})" if line is not None else ""
        at = f" at {pointer}" if pointer else ""
        super().__init__(f"{message}{at}{where}")
        self.message = message
        self.pointer = pointer
        self.line = line


def _line(el: etree._Element) -> int | None:
    """The source line of an element (the stubs do not type it)."""
    return cast("int | None", el.sourceline)


def _attrs(el: etree._Element) -> list[tuple[str, str]]:
    """The attributes of an element as ``(Clark name, value)`` pairs."""
    return cast("list[tuple[str, str]]", el.items())


def _esc(key: str) -> str:
    """Escape one JSON pointer reference token."""
    return key.replace("~", "~0").replace("/", "~1")


def _name(el: etree._Element) -> str:
    """The element name as written, for messages."""
    tag = el.tag
    if tag[0] != "{":
        return tag
    local = tag.rsplit("}", 1)[1]
    return f"{el.prefix}:{local}" if el.prefix else local


def _split(tag: str) -> tuple[str, str]:
    ns, local = tag[1:].split("}", 1)
    return ns, local


# --------------------------------------------------------------------------------------------
# XML -> JSON-LD
# --------------------------------------------------------------------------------------------

_Filler = Callable[["_Reader", etree._Element, dict[str, Any], str], None]


class _Reader:
    """Converts EPCIS XML elements into JSON-shaped values; collects the extension prefixes."""

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}  # json prefix -> namespace IRI, for @context
        self._first_prefix: dict[str, str] = {}  # namespace IRI -> first json prefix given
        self._elem_keys: dict[tuple[str, str | None], str] = {}  # (tag, xml prefix) -> key
        self._attr_keys: dict[str, str] = {}  # attribute name -> key

    # -- keys for extension names ------------------------------------------------------------

    def _prefix_for(self, ns: str, xml_prefix: str | None) -> str:
        cand = xml_prefix
        if cand:
            standard = _STANDARD_PREFIXES.get(cand)
            if standard is not None:
                if standard == ns:
                    return cand
            elif cand not in _RESERVED_TERMS:
                current = self.prefixes.get(cand)
                if current is None:
                    self.prefixes[cand] = ns
                    self._first_prefix.setdefault(ns, cand)
                    return cand
                if current == ns:
                    return cand
        known = self._first_prefix.get(ns) or _STANDARD_PREFIX_BY_IRI.get(ns)
        if known is not None:
            return known
        base = cand or "ns"
        n = 1
        while True:
            invented = f"{base}_{n}"
            if (
                invented not in self.prefixes
                and invented not in _STANDARD_PREFIXES
                and invented not in _RESERVED_TERMS
            ):
                self.prefixes[invented] = ns
                self._first_prefix[ns] = invented
                return invented
            n += 1

    def elem_key(self, el: etree._Element) -> str:
        tag = el.tag
        if tag[0] != "{":
            return tag
        cache_key = (tag, el.prefix)
        key = self._elem_keys.get(cache_key)
        if key is None:
            ns, local = _split(tag)
            key = f"{self._prefix_for(ns, el.prefix)}:{local}"
            self._elem_keys[cache_key] = key
        return key

    def attr_key(self, el: etree._Element, name: str) -> str:
        if name[0] != "{":
            return name
        key = self._attr_keys.get(name)
        if key is None:
            ns, local = _split(name)
            xml_prefix = next((p for p, u in el.nsmap.items() if u == ns and p), None)
            key = f"{self._prefix_for(ns, xml_prefix)}:{local}"
            self._attr_keys[name] = key
        return key

    # -- generic extension content -----------------------------------------------------------

    def ext_value(self, el: etree._Element, ptr: str, skip_attr: str | None = None) -> Any:
        """The JSON value of a user extension element (string or dict)."""
        attrs = [
            (k, v)
            for k, v in _attrs(el)
            if not k.startswith(_XSI_PREFIX) and not k.startswith(_XML_PREFIX) and k != skip_attr
        ]
        text = el.text.strip() if el.text else ""
        if not attrs and not len(el):
            return text
        obj: dict[str, Any] = {}
        for name, value in attrs:
            _put(obj, self.attr_key(el, name), value.strip())
        for child in el:
            if child.tail and child.tail.strip():
                text = text or child.tail.strip()
            key = self.elem_key(child)
            _put(obj, key, self.ext_value(child, f"{ptr}/{_esc(key)}"))
        if text:
            if len(el):
                raise XmlBindingError(
                    f"Element <{_name(el)}> mixes text and child elements, which has no "
                    "JSON-LD equivalent",
                    ptr,
                    _line(el),
                )
            obj["#text"] = text
        return obj

    def add_ext(self, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
        key = self.elem_key(el)
        _put(out, key, self.ext_value(el, f"{ptr}/{_esc(key)}"))

    def ext_attrs(self, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
        """Namespaced attributes of an extensible standard element become extension keys."""
        for name, value in _attrs(el):
            if name.startswith(_XSI_PREFIX) or name.startswith(_XML_PREFIX):
                continue
            if name[0] != "{":
                raise XmlBindingError(
                    f"Attribute '{name}' is not allowed on <{_name(el)}>", ptr, _line(el)
                )
            _put(out, self.attr_key(el, name), value.strip())

    def fill(
        self,
        el: etree._Element,
        out: dict[str, Any],
        ptr: str,
        fields: Mapping[str, _Filler],
    ) -> None:
        """Map the children of a standard element through ``fields``; unwrap ``<extension>``."""
        for child in el:
            tag = child.tag
            if tag[0] == "{":
                if _split(tag)[0] in _EPCIS_NAMESPACES:
                    raise self.unexpected(child, el, ptr)
                self.add_ext(child, out, ptr)
                continue
            handler = fields.get(tag)
            if handler is not None:
                handler(self, child, out, ptr)
            elif tag == "extension" or tag == "baseExtension":
                self.fill(child, out, ptr, fields)
            else:
                raise self.unexpected(child, el, ptr)

    @staticmethod
    def unexpected(child: etree._Element, parent: etree._Element, ptr: str) -> XmlBindingError:
        return XmlBindingError(
            f"Element <{_name(child)}> is not allowed in <{_name(parent)}>", ptr, _line(child)
        )

    # -- events ------------------------------------------------------------------------------

    def event(self, el: etree._Element, ptr: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": el.tag}
        if len(el.attrib):
            self.ext_attrs(el, out, ptr)
        self.fill(el, out, ptr, _EVENT_FIELDS)
        return out


def _put(obj: dict[str, Any], key: str, value: Any) -> None:
    """Add ``key: value``; a repeated key collects its values in a list."""
    if key in obj:
        current = obj[key]
        if isinstance(current, list):
            current.append(value)
        else:
            obj[key] = [current, value]
    else:
        obj[key] = value


def _text(el: etree._Element, ptr: str, key: str | int | None = None) -> str:
    """The stripped text of a text-only element; ``ptr``/``key`` locate it for errors."""
    if len(el):
        where = ptr if key is None else f"{ptr}/{key}"
        raise XmlBindingError(f"<{_name(el)}> must contain text only", where, _line(el))
    text = el.text
    return text.strip() if text else ""


def _once(out: dict[str, Any], key: str, el: etree._Element, ptr: str) -> str:
    """The pointer of a new single-valued key; refuses a repeated element."""
    here = f"{ptr}/{key}"
    if key in out:
        raise XmlBindingError(f"<{key}> appears more than once", here, _line(el))
    return here


def _repeated(el: etree._Element, ptr: str) -> XmlBindingError:
    return XmlBindingError(f"<{el.tag}> appears more than once", f"{ptr}/{el.tag}", _line(el))


def _number(text: str, ptr: str, line: int | None) -> int | float:
    value = text.strip()
    try:
        if _INT_RE.fullmatch(value):
            return int(value)
        if _NUM_RE.fullmatch(value):
            number = float(value)
            if math.isfinite(number):
                return number
    except ValueError:
        pass
    raise XmlBindingError(f"{value!r} is not a number", ptr, line)


def _boolean(text: str, ptr: str, line: int | None) -> bool:
    value = text.strip()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise XmlBindingError(f"{value!r} is not a boolean (true or false)", ptr, line)


def _no_attrs(el: etree._Element, ptr: str, allowed: frozenset[str] = frozenset()) -> None:
    for name, _ in _attrs(el):
        if name not in allowed and not name.startswith(_XSI_PREFIX):
            raise XmlBindingError(
                f"Attribute '{name}' is not allowed on <{_name(el)}>", ptr, _line(el)
            )


def _f_string(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    key = el.tag
    if key in out:
        raise _repeated(el, ptr)
    out[key] = _text(el, ptr, key)


def _f_epcs(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    key = el.tag
    here = _once(out, key, el, ptr)
    items: list[str] = []
    for i, child in enumerate(el):
        if child.tag != "epc":
            raise r.unexpected(child, el, here)
        items.append(_text(child, here, i))
    out[key] = items


_QUANTITY_ALLOWED: Final = frozenset({"epcClass", "quantity", "uom"})
_NIL: Final = _XSI_PREFIX + "nil"


def _f_quantities(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    key = el.tag
    here = _once(out, key, el, ptr)
    items: list[dict[str, Any]] = []
    for i, child in enumerate(el):
        if child.tag != "quantityElement":
            raise r.unexpected(child, el, here)
        at = f"{here}/{i}"
        item: dict[str, Any] = {}
        for part in child:
            name = part.tag
            if name not in _QUANTITY_ALLOWED:
                raise r.unexpected(part, child, at)
            if name in item:
                raise _repeated(part, at)
            if name == "quantity":
                if part.get(_NIL) in ("true", "1"):
                    continue
                item[name] = _number(_text(part, at, name), f"{at}/{name}", _line(part))
            else:
                item[name] = _text(part, at, name)
        items.append(item)
    out[key] = items


def _f_location(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    key = el.tag
    here = _once(out, key, el, ptr)
    loc: dict[str, Any] = {}
    r.fill(el, loc, here, _LOCATION_FIELDS)
    out[key] = loc


def _f_typed_list(item_tag: str) -> _Filler:
    """bizTransactionList / sourceList / destinationList: ``[{"type", item_tag}]``."""
    allowed = frozenset({"type"})

    def fill(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
        key = el.tag
        here = _once(out, key, el, ptr)
        items: list[dict[str, str]] = []
        for i, child in enumerate(el):
            if child.tag != item_tag:
                raise r.unexpected(child, el, here)
            at = f"{here}/{i}"
            _no_attrs(child, at, allowed)
            item: dict[str, str] = {}
            kind = child.get("type")
            if kind is not None:
                item["type"] = kind.strip()
            item[item_tag] = _text(child, at, item_tag)
            items.append(item)
        out[key] = items

    return fill


def _f_persistent(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    here = _once(out, "persistentDisposition", el, ptr)
    result: dict[str, list[str]] = {}
    for child in el:
        tag = child.tag
        if tag != "set" and tag != "unset":
            raise r.unexpected(child, el, here)
        values = result.setdefault(tag, [])
        values.append(_text(child, f"{here}/{tag}/{len(values)}"))
    out["persistentDisposition"] = result


def _f_corrective(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    here = _once(out, "correctiveEventIDs", el, ptr)
    ids: list[str] = []
    for i, child in enumerate(el):
        if child.tag != "correctiveEventID":
            raise r.unexpected(child, el, here)
        ids.append(_text(child, f"{here}/{i}"))
    out["correctiveEventIDs"] = ids


def _f_error_declaration(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    here = _once(out, "errorDeclaration", el, ptr)
    decl: dict[str, Any] = {}
    if len(el.attrib):
        r.ext_attrs(el, decl, here)
    r.fill(el, decl, here, _ERROR_FIELDS)
    out["errorDeclaration"] = decl


def _sensor_attrs(r: _Reader, el: etree._Element, ptr: str) -> dict[str, Any]:
    if len(el) or (el.text and el.text.strip()):
        raise XmlBindingError(
            f"<{_name(el)}> must not have content, only attributes", ptr, _line(el)
        )
    out: dict[str, Any] = {}
    for name, value in _attrs(el):
        if name[0] == "{":
            if name.startswith(_XSI_PREFIX) or name.startswith(_XML_PREFIX):
                continue
            out[r.attr_key(el, name)] = value.strip()
        elif name in _SENSOR_NUMBERS:
            out[name] = _number(value, f"{ptr}/{name}", _line(el))
        elif name == "booleanValue":
            out[name] = _boolean(value, f"{ptr}/{name}", _line(el))
        else:
            out[name] = value.strip()
    return out


def _f_sensor_metadata(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    out["sensorMetadata"] = _sensor_attrs(r, el, _once(out, "sensorMetadata", el, ptr))


def _f_sensor_report(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    reports = out.setdefault("sensorReport", [])
    reports.append(_sensor_attrs(r, el, f"{ptr}/sensorReport/{len(reports)}"))


def _f_sensor_elements(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    here = _once(out, "sensorElementList", el, ptr)
    items: list[dict[str, Any]] = []
    for child in el:
        if child.tag == "extension" and not len(child):
            continue
        if child.tag != "sensorElement":
            raise r.unexpected(child, el, here)
        at = f"{here}/{len(items)}"
        item: dict[str, Any] = {}
        r.fill(child, item, at, _SENSOR_ELEMENT_FIELDS)
        items.append(item)
    out["sensorElementList"] = items


def _f_ilmd(r: _Reader, el: etree._Element, out: dict[str, Any], ptr: str) -> None:
    here = _once(out, "ilmd", el, ptr)
    ilmd: dict[str, Any] = {}
    r.fill(el, ilmd, here, {})
    out["ilmd"] = ilmd


_EVENT_FIELDS: Final[Mapping[str, _Filler]] = {
    **dict.fromkeys(
        (
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "certificationInfo",
            "parentID",
            "action",
            "bizStep",
            "disposition",
            "transformationID",
        ),
        _f_string,
    ),
    **dict.fromkeys(("epcList", "childEPCs", "inputEPCList", "outputEPCList"), _f_epcs),
    **dict.fromkeys(
        ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"),
        _f_quantities,
    ),
    "errorDeclaration": _f_error_declaration,
    "readPoint": _f_location,
    "bizLocation": _f_location,
    "bizTransactionList": _f_typed_list("bizTransaction"),
    "sourceList": _f_typed_list("source"),
    "destinationList": _f_typed_list("destination"),
    "sensorElementList": _f_sensor_elements,
    "persistentDisposition": _f_persistent,
    "ilmd": _f_ilmd,
}
_LOCATION_FIELDS: Final[Mapping[str, _Filler]] = {"id": _f_string}
_ERROR_FIELDS: Final[Mapping[str, _Filler]] = {
    "declarationTime": _f_string,
    "reason": _f_string,
    "correctiveEventIDs": _f_corrective,
}
_SENSOR_ELEMENT_FIELDS: Final[Mapping[str, _Filler]] = {
    "sensorMetadata": _f_sensor_metadata,
    "sensorReport": _f_sensor_report,
}


# -- master data (EPCISHeader) ---------------------------------------------------------------


def _vocabulary_list(r: _Reader, el: etree._Element, ptr: str) -> list[dict[str, Any]]:
    vocabularies: list[dict[str, Any]] = []
    for vocab in el:
        if vocab.tag != "Vocabulary":
            raise r.unexpected(vocab, el, ptr)
        at = f"{ptr}/{len(vocabularies)}"
        item: dict[str, Any] = {}
        kind = vocab.get("type")
        if kind is not None:
            item["type"] = kind.strip()
        elements: list[dict[str, Any]] = []
        for part in vocab:
            if part.tag == "VocabularyElementList":
                for ve in part:
                    if ve.tag != "VocabularyElement":
                        raise r.unexpected(ve, part, at)
                    elements.append(
                        _vocabulary_element(r, ve, f"{at}/vocabularyElementList/{len(elements)}")
                    )
            elif part.tag == "extension" and not len(part):
                continue
            elif part.tag[0] == "{":
                r.add_ext(part, item, at)
            else:
                raise r.unexpected(part, vocab, at)
        item["vocabularyElementList"] = elements
        vocabularies.append(item)
    return vocabularies


def _vocabulary_element(r: _Reader, el: etree._Element, ptr: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ident = el.get("id")
    if ident is not None:
        out["id"] = ident.strip()
    attributes: list[dict[str, Any]] = []
    children: list[str] | None = None
    for part in el:
        tag = part.tag
        if tag == "attribute":
            at = f"{ptr}/attributes/{len(attributes)}"
            attr: dict[str, Any] = {"id": (part.get("id") or "").strip()}
            attr["attribute"] = r.ext_value(part, f"{at}/attribute", skip_attr="id")
            attributes.append(attr)
        elif tag == "children":
            children = [_text(c, f"{ptr}/children") for c in part if c.tag == "id"]
        elif tag == "extension" and not len(part):
            continue
        elif tag[0] == "{":
            r.add_ext(part, out, ptr)
        else:
            raise r.unexpected(part, el, ptr)
    if attributes:
        out["attributes"] = attributes
    if children is not None:
        out["children"] = children
    return out


def _header(r: _Reader, el: etree._Element, doc: dict[str, Any]) -> None:
    header: dict[str, Any] = {}
    ptr = "/epcisHeader"

    def walk(container: etree._Element) -> None:
        for child in container:
            tag = child.tag
            if tag == "{" + SBDH_NS + "}StandardBusinessDocumentHeader":
                _sbdh(child, doc)
            elif tag == "extension":
                walk(child)
            elif tag == "EPCISMasterData":
                md: dict[str, Any] = {}
                for part in child:
                    if part.tag == "VocabularyList":
                        md["vocabularyList"] = _vocabulary_list(
                            r, part, f"{ptr}/epcisMasterData/vocabularyList"
                        )
                    elif not (part.tag == "extension" and not len(part)):
                        raise r.unexpected(part, child, f"{ptr}/epcisMasterData")
                header["epcisMasterData"] = md
            elif tag[0] == "{":
                r.add_ext(child, header, ptr)
            else:
                raise r.unexpected(child, container, ptr)

    walk(el)
    if header:
        doc["epcisHeader"] = header


def _sbdh(el: etree._Element, doc: dict[str, Any]) -> None:
    """Keep the sender, receiver and instance identifier of a Standard Business Doc Header."""
    ns = {"sh": SBDH_NS}
    for key, path in (
        ("sender", "sh:Sender/sh:Identifier"),
        ("receiver", "sh:Receiver/sh:Identifier"),
        ("instanceIdentifier", "sh:DocumentIdentification/sh:InstanceIdentifier"),
    ):
        found = el.find(path, ns)
        if found is not None and found.text and found.text.strip():
            doc[key] = found.text.strip()


# -- document level --------------------------------------------------------------------------

_ROOTS: Final[Mapping[str, frozenset[str]]] = {
    "EPCISDocument": frozenset({EPCIS_NS, EPCIS_NS_1}),
    "EPCISQueryDocument": frozenset({EPCIS_QUERY_NS, EPCIS_QUERY_NS_1}),
}


_ENTITY_MARKERS: Final = tuple(
    "<!ENTITY".encode(codec)
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def _refuse_entity_declarations(data: bytes) -> None:
    """Refuse entity declarations before libxml2 sees them: they are how XML bombs and
    external-entity (XXE) attacks start, and EPCIS documents never need them."""
    for marker in _ENTITY_MARKERS:
        found = data.find(marker)
        if found >= 0:
            line = data.count(b"\n", 0, found) + 1 if marker == _ENTITY_MARKERS[0] else None
            raise XmlBindingError(
                "DOCTYPE declarations (entities) are not accepted in EPCIS documents", "", line
            )


def _check_prolog(tree: etree._ElementTree, expected: str) -> None:
    """Refuse DOCTYPEs that declare anything (XML bombs, external entities) and wrong roots."""
    info: Any = tree.docinfo
    if info.system_url or info.public_id:
        raise XmlBindingError("A DOCTYPE referring to an external DTD is not accepted", "", 1)
    dtd: Any = info.internalDTD
    if dtd is not None and (
        next(iter(dtd.iterentities()), None) is not None
        or next(iter(dtd.iterelements()), None) is not None
    ):
        raise XmlBindingError(
            "DOCTYPE declarations (entities, elements) are not accepted", "", None
        )
    root = tree.getroot()
    tag = str(root.tag)
    namespaces = _ROOTS[expected]
    if tag[0] != "{" or _split(tag)[1] != expected or _split(tag)[0] not in namespaces:
        wanted = " or ".join(sorted(namespaces))
        raise XmlBindingError(
            f"The root element must be {expected} in namespace {wanted}, not <{_name(root)}>",
            "",
            _line(root),
        )


def _is_event_list(el: etree._Element | None) -> bool:
    if el is None:
        return False
    if el.tag == "EventList":
        return True
    if el.tag == "extension":  # EPCIS 1.x: <EventList><extension><TransformationEvent>
        parent = el.getparent()
        return parent is not None and parent.tag == "EventList"
    return False


def _unknown_event(el: etree._Element, index: int, base: str) -> XmlBindingError:
    return XmlBindingError(
        f"<{_name(el)}> is not an EPCIS event (expected one of {', '.join(EVENT_TYPES)})",
        f"{base}/{index}",
        _line(el),
    )


def _drop_leftovers(container: etree._Element, index: int, base: str) -> None:
    """Raise on anything left in an event list once its events are converted and removed."""
    for child in container:
        if child.tag != "extension":
            raise _unknown_event(child, index, base)
        _drop_leftovers(child, index, base)  # a 1.x wrapper: only events (now removed) belong


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document is converted.

    Converting builds hundreds of thousands of small acyclic dicts and lists; the collector
    would otherwise rescan them again and again (it doubled the parse time of 10,000 events).
    It is switched back on afterwards, unless it was already off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(data: bytes, expected: str) -> dict[str, Any]:
    with _gc_paused():
        return _parse_paused(data, expected)


def _parse_paused(data: bytes, expected: str) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("XML input must be bytes")
    data = data if isinstance(data, bytes) else bytes(data)
    _refuse_entity_declarations(data)
    reader = _Reader()
    events: list[dict[str, Any]] = []
    base = (
        "/epcisBody/eventList"
        if expected == "EPCISDocument"
        else "/epcisBody/queryResults/resultsBody/eventList"
    )
    parser = etree.iterparse(
        BytesIO(data),
        events=("end",),
        tag=(*EVENT_TYPES, "EventList"),
        remove_comments=True,
        remove_pis=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )
    checked = False
    try:
        for _, el in parser:
            if not checked:
                _check_prolog(el.getroottree(), expected)
                checked = True
            parent = el.getparent()
            if el.tag == "EventList":
                _drop_leftovers(el, len(events), base)
                continue
            if parent is None or not _is_event_list(parent):
                continue  # an element named like an event inside extension content
            previous = el.getprevious()
            while previous is not None:
                if previous.tag == "extension" and not len(previous):
                    parent.remove(previous)  # an emptied 1.x extension wrapper
                    previous = el.getprevious()
                    continue
                raise _unknown_event(previous, len(events), base)
            events.append(reader.event(el, f"{base}/{len(events)}"))
            parent.remove(el)  # keep the tree small: the event is converted
    except etree.XMLSyntaxError as exc:
        raise XmlBindingError(f"Malformed XML: {exc.msg}", "", exc.lineno) from None
    root = parser.root
    if root is None:  # pragma: no cover - lxml raises XMLSyntaxError first
        raise XmlBindingError("The document is empty", "", None)
    if not checked:
        _check_prolog(root.getroottree(), expected)
    if expected == "EPCISDocument":
        return _document(reader, root, events)
    return _query_document(reader, root, events)


def _root_attrs(reader: _Reader, root: etree._Element, doc: dict[str, Any]) -> None:
    for name, value in _attrs(root):
        if name in ("schemaVersion", "creationDate"):
            doc[name] = value.strip()
        elif name[0] == "{" and not name.startswith(_XSI_PREFIX):
            _put(doc, reader.attr_key(root, name), value.strip())
        elif name[0] != "{":
            raise XmlBindingError(
                f"Attribute '{name}' is not allowed on <{_name(root)}>", "", _line(root)
            )


def _context(reader: _Reader) -> list[Any]:
    context: list[Any] = [EPCIS_CONTEXT_URL]
    if reader.prefixes:
        context.append(dict(reader.prefixes))
    return context


def _document(
    reader: _Reader, root: etree._Element, events: list[dict[str, Any]]
) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": None, "type": "EPCISDocument"}
    _root_attrs(reader, root, doc)
    body: dict[str, Any] | None = None
    for child in root:
        tag = child.tag
        if tag == "EPCISHeader":
            _header(reader, child, doc)
        elif tag == "EPCISBody":
            body = {"eventList": events}
            for part in child:
                if part.tag == "EventList" or (part.tag == "extension" and not len(part)):
                    continue
                if part.tag[0] == "{":
                    reader.add_ext(part, body, "/epcisBody")
                else:
                    raise reader.unexpected(part, child, "/epcisBody")
        elif tag == "extension":
            reader.fill(child, doc, "", {})
        elif tag[0] == "{":
            reader.add_ext(child, doc, "")
        else:
            raise reader.unexpected(child, root, "")
    if body is None:
        raise XmlBindingError("The document has no <EPCISBody>", "", _line(root))
    doc["epcisBody"] = body
    doc["@context"] = _context(reader)
    return doc


def _query_document(
    reader: _Reader, root: etree._Element, events: list[dict[str, Any]]
) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": None, "type": "EPCISQueryDocument"}
    _root_attrs(reader, root, doc)
    results: dict[str, Any] | None = None
    for child in root:
        tag = child.tag
        if tag == "EPCISHeader":
            _header(reader, child, doc)
        elif tag == "EPCISBody":
            for part in child:
                if part.tag not in _QUERY_RESULTS_TAGS:
                    raise XmlBindingError(
                        f"Only QueryResults are supported in a query document, not <{_name(part)}>",
                        "/epcisBody",
                        _line(part),
                    )
                results = _query_results(reader, part, events)
        elif tag == "extension":
            reader.fill(child, doc, "", {})
        elif tag[0] == "{":
            reader.add_ext(child, doc, "")
        else:
            raise reader.unexpected(child, root, "")
    if results is None:
        raise XmlBindingError("The query document has no QueryResults", "", _line(root))
    doc["epcisBody"] = {"queryResults": results}
    doc["@context"] = _context(reader)
    return doc


_QUERY_RESULTS_TAGS: Final = frozenset(
    {"QueryResults", f"{{{EPCIS_QUERY_NS}}}QueryResults", f"{{{EPCIS_QUERY_NS_1}}}QueryResults"}
)


def _query_results(
    reader: _Reader, el: etree._Element, events: list[dict[str, Any]]
) -> dict[str, Any]:
    ptr = "/epcisBody/queryResults"
    out: dict[str, Any] = {}
    for part in el:
        tag = part.tag
        if tag in ("queryName", "subscriptionID"):
            if tag in out:
                raise _repeated(part, ptr)
            out[tag] = _text(part, ptr, tag)
        elif tag == "resultsBody":
            body: dict[str, Any] = {}
            for item in part:
                if item.tag == "EventList":
                    body["eventList"] = events
                elif item.tag == "VocabularyList":
                    body["vocabularyList"] = _vocabulary_list(
                        reader, item, f"{ptr}/resultsBody/vocabularyList"
                    )
                else:
                    raise reader.unexpected(item, part, f"{ptr}/resultsBody")
            out["resultsBody"] = body
        elif tag == "extension":
            reader.fill(part, out, ptr, {})
        elif tag[0] == "{":
            reader.add_ext(part, out, ptr)
        else:
            raise reader.unexpected(part, el, ptr)
    return out


def parse_document(data: bytes) -> dict[str, Any]:
    """Parse an ``epcis:EPCISDocument`` (EPCIS 2.0, or 1.x) into the JSON-LD document dict.

    Raises :class:`XmlBindingError` for malformed XML, DOCTYPE declarations, another root element
    and anything that has no place in the JSON-LD shape.
    """
    return _parse(data, "EPCISDocument")


def parse_query_document(data: bytes) -> dict[str, Any]:
    """Parse an ``epcisq:EPCISQueryDocument`` holding ``QueryResults`` into its JSON-LD dict."""
    return _parse(data, "EPCISQueryDocument")


# --------------------------------------------------------------------------------------------
# JSON-LD -> XML
# --------------------------------------------------------------------------------------------

_COMMON_ORDER: Final = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
)
_TAIL_ORDER: Final = (
    "sourceList",
    "destinationList",
    "sensorElementList",
    "persistentDisposition",
)
_FIELD_ORDER: Final[Mapping[str, tuple[str, ...]]] = {
    "ObjectEvent": (
        *_COMMON_ORDER,
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "quantityList",
        *_TAIL_ORDER,
        "ilmd",
    ),
    "AggregationEvent": (
        *_COMMON_ORDER,
        "parentID",
        "childEPCs",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "childQuantityList",
        *_TAIL_ORDER,
    ),
    "TransactionEvent": (
        *_COMMON_ORDER,
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "quantityList",
        *_TAIL_ORDER,
    ),
    "TransformationEvent": (
        *_COMMON_ORDER,
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        *_TAIL_ORDER,
        "ilmd",
    ),
    "AssociationEvent": (
        *_COMMON_ORDER,
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        *_TAIL_ORDER,
    ),
}
_SKIPPED_EVENT_KEYS: Final = frozenset({"type", "@context"})


def _scalar(value: Any) -> str | None:
    """The XML text of a JSON scalar (``None`` for null)."""
    if type(value) is str:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return repr(value)
        text = repr(value)
        if "e" in text or "E" in text:
            return format(Decimal(text), "f")
        return text
    return str(value)


def _context_prefixes(context: Any) -> dict[str, str]:
    """``prefix -> IRI`` definitions found in a JSON-LD ``@context`` value."""
    found: dict[str, str] = {}
    entries: Iterable[Any] = context if isinstance(context, list) else [context]
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        for key, value in entry.items():
            if not isinstance(key, str) or key.startswith("@") or ":" in key:
                continue
            if isinstance(value, Mapping):
                value = value.get("@id")
            if isinstance(value, str) and ":" in value:
                found[key] = value
    return found


class _Writer:
    """Builds EPCIS XML elements from JSON-shaped events."""

    def __init__(self, context: Any) -> None:
        self.prefix_ns: dict[str, str] = dict(_STANDARD_PREFIXES)
        self.prefix_ns.update(_context_prefixes(context))
        self.used: dict[str, str] = {}  # namespace IRI -> xml prefix

    def _xml_prefix(self, ns: str, preferred: str | None) -> None:
        if ns in self.used:
            return
        taken = set(self.used.values())
        if (
            preferred
            and _NCNAME_RE.fullmatch(preferred)
            and not preferred.lower().startswith("xml")
            and preferred not in taken
            and preferred not in ("epcis", "epcisq", "sbdh", "xsi")
        ):
            self.used[ns] = preferred
            return
        n = 1
        while f"ns{n}" in taken:
            n += 1
        self.used[ns] = f"ns{n}"

    def qname(self, key: str, ptr: str) -> str:
        """The Clark name ``{ns}local`` of an extension key ``prefix:local`` (or a full IRI)."""
        prefix, sep, local = key.partition(":")
        if not sep:
            return key
        ns = self.prefix_ns.get(prefix)
        preferred: str | None = prefix
        if ns is None or local.startswith("//"):
            cut = max(key.rfind("#"), key.rfind("/"), key.rfind(":"))
            ns, local, preferred = key[: cut + 1], key[cut + 1 :], None
        if not _NCNAME_RE.fullmatch(local) or not ns:
            raise XmlBindingError(f"Key {key!r} cannot be written as an XML name", ptr)
        self._xml_prefix(ns, preferred)
        return f"{{{ns}}}{local}"

    def sub(self, parent: etree._Element, tag: str, text: Any = None) -> etree._Element:
        el = etree.SubElement(parent, tag)
        value = _scalar(text)
        if value is not None:
            el.text = value
        return el

    def ext(self, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.ext(parent, key, item, f"{ptr}/{i}")
            return
        try:
            el = etree.SubElement(parent, self.qname(key, ptr))
        except ValueError:
            raise XmlBindingError(f"Key {key!r} cannot be written as an XML name", ptr) from None
        if isinstance(value, Mapping):
            text_key = "#text" if "#text" in value else "@value" if "@value" in value else None
            if text_key is not None:
                # text with attributes (the parser's "#text" form): the other keys are attributes
                el.text = _scalar(value[text_key])
                self.attrs(el, {k: v for k, v in value.items() if k[0] not in "#@"}, ptr)
                return
            for sub_key, sub_value in value.items():
                if not sub_key.startswith("@"):
                    self.ext(el, sub_key, sub_value, f"{ptr}/{_esc(sub_key)}")
        else:
            text = _scalar(value)
            if text is not None:
                el.text = text

    def ext_keys(
        self, el: etree._Element, obj: Mapping[str, Any], ptr: str, standard: Iterable[str]
    ) -> None:
        """Write the extension keys of ``obj``; refuse unknown keys without a prefix."""
        known = set(standard)
        for key, value in obj.items():
            if key in known:
                continue
            if ":" not in key:
                raise XmlBindingError(f"{key!r} has no place in the EPCIS XML binding", ptr)
            self.ext(el, key, value, f"{ptr}/{_esc(key)}")

    def attrs(self, el: etree._Element, obj: Mapping[str, Any], ptr: str) -> None:
        for key, value in obj.items():
            if isinstance(value, Mapping | list):
                raise XmlBindingError(f"{key!r} must be a simple value here", f"{ptr}/{_esc(key)}")
            name = self.qname(key, f"{ptr}/{_esc(key)}") if ":" in key else key
            text = _scalar(value)
            if text is not None:
                try:
                    el.set(name, text)
                except ValueError:
                    raise XmlBindingError(
                        f"{key!r} cannot be written as an XML attribute", f"{ptr}/{_esc(key)}"
                    ) from None

    # -- events ------------------------------------------------------------------------------

    def event(self, parent: etree._Element, event: Mapping[str, Any], ptr: str) -> None:
        kind = event.get("type")
        order = _FIELD_ORDER.get(kind) if isinstance(kind, str) else None
        if order is None or not isinstance(kind, str):
            raise XmlBindingError(f"Unknown event type {kind!r}", f"{ptr}/type")
        saved = self.prefix_ns
        if "@context" in event:
            self.prefix_ns = {**saved, **_context_prefixes(event["@context"])}
        try:
            el = etree.SubElement(parent, kind)
            for key in order:
                if key in event:
                    _WRITERS[key](self, el, key, event[key], f"{ptr}/{key}")
            for key, value in event.items():
                if key in _SKIPPED_EVENT_KEYS or key in order:
                    continue
                if ":" not in key:
                    raise XmlBindingError(f"{key!r} is not a field of {kind}", f"{ptr}/{_esc(key)}")
                self.ext(el, key, value, f"{ptr}/{_esc(key)}")
        finally:
            self.prefix_ns = saved

    def vocabulary_list(self, parent: etree._Element, vocabularies: Any, ptr: str) -> None:
        vl = etree.SubElement(parent, "VocabularyList")
        for i, vocab in enumerate(vocabularies or []):
            at = f"{ptr}/{i}"
            v = etree.SubElement(vl, "Vocabulary")
            if vocab.get("type") is not None:
                v.set("type", str(vocab["type"]))
            elements = vocab.get("vocabularyElementList")
            if elements:
                vel = etree.SubElement(v, "VocabularyElementList")
                for j, element in enumerate(elements):
                    self.vocabulary_element(vel, element, f"{at}/vocabularyElementList/{j}")
            self.ext_keys(v, vocab, at, ("type", "vocabularyElementList"))

    def vocabulary_element(
        self, parent: etree._Element, element: Mapping[str, Any], ptr: str
    ) -> None:
        ve = etree.SubElement(parent, "VocabularyElement")
        if element.get("id") is not None:
            ve.set("id", str(element["id"]))
        for k, attr in enumerate(element.get("attributes") or []):
            a = etree.SubElement(ve, "attribute")
            a.set("id", str(attr.get("id", "")))
            value = attr.get("attribute")
            if isinstance(value, Mapping):
                for key, sub in value.items():
                    if key in ("#text", "@value"):
                        a.text = _scalar(sub)
                    elif not key.startswith("@"):
                        self.ext(a, key, sub, f"{ptr}/attributes/{k}/attribute/{_esc(key)}")
            else:
                a.text = _scalar(value)
        if element.get("children") is not None:
            children = etree.SubElement(ve, "children")
            for child in element["children"]:
                self.sub(children, "id", child)
        self.ext_keys(ve, element, ptr, ("id", "attributes", "children"))


def _w_string(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    w.sub(parent, key, value)


def _w_epcs(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    for epc in value or []:
        w.sub(el, "epc", epc)


def _w_quantities(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    for i, item in enumerate(value or []):
        q = etree.SubElement(el, "quantityElement")
        w.sub(q, "epcClass", item.get("epcClass"))
        if "quantity" in item:
            w.sub(q, "quantity", item["quantity"])
        if "uom" in item:
            w.sub(q, "uom", item["uom"])
        extra = set(item) - _QUANTITY_ALLOWED
        if extra:
            raise XmlBindingError(
                f"{sorted(extra)[0]!r} has no place in a quantity element", f"{ptr}/{i}"
            )


def _w_location(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    w.sub(el, "id", value.get("id"))
    w.ext_keys(el, value, ptr, ("id",))


def _w_typed_list(item_tag: str) -> Callable[[_Writer, etree._Element, str, Any, str], None]:
    def write(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
        el = etree.SubElement(parent, key)
        for item in value or []:
            child = w.sub(el, item_tag, item.get(item_tag))
            if item.get("type") is not None:
                child.set("type", str(item["type"]))

    return write


def _w_error(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    if "declarationTime" in value:
        w.sub(el, "declarationTime", value["declarationTime"])
    if "reason" in value:
        w.sub(el, "reason", value["reason"])
    if "correctiveEventIDs" in value:
        ids = etree.SubElement(el, "correctiveEventIDs")
        for ident in value["correctiveEventIDs"] or []:
            w.sub(ids, "correctiveEventID", ident)
    w.ext_keys(el, value, ptr, ("declarationTime", "reason", "correctiveEventIDs"))


def _w_sensors(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    for i, element in enumerate(value or []):
        at = f"{ptr}/{i}"
        se = etree.SubElement(el, "sensorElement")
        if "sensorMetadata" in element:
            w.attrs(etree.SubElement(se, "sensorMetadata"), element["sensorMetadata"], at)
        for j, report in enumerate(element.get("sensorReport") or []):
            w.attrs(etree.SubElement(se, "sensorReport"), report, f"{at}/sensorReport/{j}")
        w.ext_keys(se, element, at, ("sensorMetadata", "sensorReport"))


def _w_persistent(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    el = etree.SubElement(parent, key)
    for part in ("unset", "set"):
        for disposition in value.get(part) or []:
            w.sub(el, part, disposition)


def _w_ilmd(w: _Writer, parent: etree._Element, key: str, value: Any, ptr: str) -> None:
    w.ext_keys(etree.SubElement(parent, key), value, ptr, ())


_WRITERS: Final[Mapping[str, Callable[[_Writer, etree._Element, str, Any, str], None]]] = {
    **dict.fromkeys(
        (
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "certificationInfo",
            "parentID",
            "action",
            "bizStep",
            "disposition",
            "transformationID",
        ),
        _w_string,
    ),
    **dict.fromkeys(("epcList", "childEPCs", "inputEPCList", "outputEPCList"), _w_epcs),
    **dict.fromkeys(
        ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"),
        _w_quantities,
    ),
    "errorDeclaration": _w_error,
    "readPoint": _w_location,
    "bizLocation": _w_location,
    "bizTransactionList": _w_typed_list("bizTransaction"),
    "sourceList": _w_typed_list("source"),
    "destinationList": _w_typed_list("destination"),
    "sensorElementList": _w_sensors,
    "persistentDisposition": _w_persistent,
    "ilmd": _w_ilmd,
}


def _root(tag: str, ns: str, prefix: str, doc: Mapping[str, Any]) -> etree._Element:
    root = etree.Element(f"{{{ns}}}{tag}", nsmap={prefix: ns})
    root.set("schemaVersion", str(doc.get("schemaVersion") or "2.0"))
    created = doc.get("creationDate")
    if not created:
        created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    root.set("creationDate", str(created))
    return root


def _write_header(w: _Writer, root: etree._Element, doc: Mapping[str, Any]) -> None:
    header = doc.get("epcisHeader") or {}
    sbdh_fields = [doc.get(k) for k in ("sender", "receiver", "instanceIdentifier")]
    master = header.get("epcisMasterData")
    if not master and not any(sbdh_fields):
        return
    el = etree.SubElement(root, "EPCISHeader")
    if any(sbdh_fields):
        sender, receiver, instance = sbdh_fields
        w.used.setdefault(SBDH_NS, "sbdh")
        sh = etree.SubElement(el, f"{{{SBDH_NS}}}StandardBusinessDocumentHeader")
        etree.SubElement(sh, f"{{{SBDH_NS}}}HeaderVersion").text = "1.0"
        for tag, ident in (("Sender", sender), ("Receiver", receiver)):
            if ident:
                party = etree.SubElement(sh, f"{{{SBDH_NS}}}{tag}")
                etree.SubElement(party, f"{{{SBDH_NS}}}Identifier").text = str(ident)
        di = etree.SubElement(sh, f"{{{SBDH_NS}}}DocumentIdentification")
        for tag, text in (
            ("Standard", "EPCglobal"),
            ("TypeVersion", "2.0"),
            ("InstanceIdentifier", instance or ""),
            ("Type", "Events"),
            ("CreationDateAndTime", root.get("creationDate")),
        ):
            etree.SubElement(di, f"{{{SBDH_NS}}}{tag}").text = str(text)
    if master:
        ext = etree.SubElement(el, "extension")
        md = etree.SubElement(ext, "EPCISMasterData")
        w.vocabulary_list(md, master.get("vocabularyList"), "/epcisHeader/epcisMasterData")


def _finish(root: etree._Element, w: _Writer) -> bytes:
    top = {prefix: ns for ns, prefix in w.used.items()}
    etree.cleanup_namespaces(root, top_nsmap=top)
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def _write_events(w: _Writer, parent: etree._Element, events: Any, base: str) -> None:
    event_list = etree.SubElement(parent, "EventList")
    for i, event in enumerate(events or []):
        if not isinstance(event, Mapping):
            raise XmlBindingError("An event must be a JSON object", f"{base}/{i}")
        w.event(event_list, event, f"{base}/{i}")


_DOCUMENT_KEYS: Final = (
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
)


def render_document(doc: Mapping[str, Any]) -> bytes:
    """Render an ``EPCISDocument`` dict (JSON-LD shape) in the EPCIS 2.0 XML binding."""
    with _gc_paused():
        return _render_document(doc)


def _render_document(doc: Mapping[str, Any]) -> bytes:
    w = _Writer(doc.get("@context"))
    root = _root("EPCISDocument", EPCIS_NS, "epcis", doc)
    _write_header(w, root, doc)
    body = etree.SubElement(root, "EPCISBody")
    epcis_body = doc.get("epcisBody") or {}
    _write_events(w, body, epcis_body.get("eventList"), "/epcisBody/eventList")
    w.ext_keys(body, epcis_body, "/epcisBody", ("eventList",))
    w.ext_keys(root, doc, "", _DOCUMENT_KEYS)
    return _finish(root, w)


def render_query_document(doc: Mapping[str, Any]) -> bytes:
    """Render an ``EPCISQueryDocument`` dict as ``epcisq:EPCISQueryDocument`` XML.

    The XML holds ``EPCISBody/epcisq:QueryResults`` with ``queryName``, ``subscriptionID`` (when
    given) and ``resultsBody/EventList`` (or ``VocabularyList`` for master data results)."""
    with _gc_paused():
        return _render_query_document(doc)


def _render_query_document(doc: Mapping[str, Any]) -> bytes:
    w = _Writer(doc.get("@context"))
    root = _root("EPCISQueryDocument", EPCIS_QUERY_NS, "epcisq", doc)
    _write_header(w, root, doc)
    body = etree.SubElement(root, "EPCISBody")
    results = (doc.get("epcisBody") or {}).get("queryResults") or {}
    qr = etree.SubElement(body, f"{{{EPCIS_QUERY_NS}}}QueryResults")
    w.sub(qr, "queryName", results.get("queryName", ""))
    if results.get("subscriptionID") is not None:
        w.sub(qr, "subscriptionID", results["subscriptionID"])
    results_body = results.get("resultsBody") or {}
    rb = etree.SubElement(qr, "resultsBody")
    base = "/epcisBody/queryResults/resultsBody"
    if "vocabularyList" in results_body and "eventList" not in results_body:
        w.vocabulary_list(rb, results_body["vocabularyList"], f"{base}/vocabularyList")
    else:
        _write_events(w, rb, results_body.get("eventList"), f"{base}/eventList")
    return _finish(root, w)
