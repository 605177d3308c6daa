"""A strict parser of GS1 Digital Link URIs (path and query) as our resolver receives them.

Pure functions, no database. The grammar is the one of the GS1 Digital Link standard (URI
syntax, section "Digital Link URI syntax"), restricted to the primary keys we issue:

* ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]`` or ``/01/{gtin}/235/{tpx}``;
* ``/00/{sscc}``;
* ``/414/{gln}[/254/{extension}]``.

What is checked, beyond what biip checks on its own (biip accepts a wrong GTIN check digit and
knows nothing of paths and queries):

* the length and the check digit of the primary key (a GTIN may have 8, 12, 13 or 14 digits and
  is padded to 14);
* key qualifiers only in the path, each at most once, in the order of the standard; a data
  attribute (e.g. AI 17) in the path is refused, and so is a key qualifier or primary key in the
  query;
* no empty values and no repeated data attributes;
* values use only GS1 AI encodable character set 82, written either as themselves (letters,
  digits and ``! ' ( ) * + , - . : ; = _``) or percent-encoded (``%2F`` for ``/`` …); any other
  raw character, a broken ``%`` escape or a decoded character outside the set is refused;
* data attributes must match their AI's format (biip's patterns, dates included);
* one trailing slash is tolerated, as in :func:`txng.epcis.identifiers.canonical_id`.

Query parameters whose name is not a GS1 AI (``linkType``, ``context``, ``utm_source`` …) are
kept aside in :attr:`DigitalLink.params` and never checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Final

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from txng.epcis import identifiers
from txng.errors import N_

# Primary keys served by this resolver, their names and the qualifiers they take, in order.
KEY_NAMES: Final = {"01": "GTIN", "00": "SSCC", "414": "GLN"}
QUALIFIER_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "01": ("22", "10", "21"),
    "00": (),
    "414": ("254",),
}
# AI 235 (third-party controlled serial) stands alone after a GTIN.
_ALONE: Final = {"01": "235"}
# Every key qualifier and primary key of the standard: never a data attribute in the query.
_QUALIFIERS: Final = frozenset({"22", "10", "21", "235", "254", "7040", "8011", "8019"})
_PRIMARY_KEYS: Final = frozenset(
    {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010"}
    | {"8013", "8017", "8018"}
)
_MAX_LENGTH: Final = {"22": 20, "10": 20, "21": 20, "235": 28, "254": 20}

_CSET82: Final = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
# Characters of set 82 that may appear unencoded in a path segment or query value.
_RAW_OK: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!'()*+,-.:;=_"
)
_ESCAPE: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_DIGITS: Final = re.compile(r"[0-9]+")
_ENCODE: Final = {c: f"%{ord(c):02X}" for c in '!"#%&()*+,/:<>?'}
_ENCODE_TABLE: Final = str.maketrans(_ENCODE)


class DigitalLinkError(ValueError):
    """A malformed Digital Link: ``message`` is an English msgid with ``params``."""

    def __init__(self, pointer: str, message: str, code: str, **params: Any) -> None:
        self.pointer = pointer  # "/path" or "/query/{name}"
        self.message = message
        self.code = code
        self.params: Mapping[str, Any] = params
        super().__init__(message % params if params else message)


@dataclass(frozen=True)
class DigitalLink:
    """A parsed Digital Link: primary key, key qualifiers, data attributes, other parameters."""

    key_ai: str
    key: str  # normalised: a GTIN has 14 digits
    qualifiers: tuple[tuple[str, str], ...] = ()  # decoded values, in path order
    attributes: tuple[tuple[str, str], ...] = ()  # decoded values, in query order
    params: tuple[tuple[str, str], ...] = field(default=())  # non-AI query parameters

    def qualifier(self, ai: str) -> str | None:
        return dict(self.qualifiers).get(ai)

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    @cached_property  # read several times per page (links, forms, ident)
    def path(self) -> str:
        """The canonical path: numeric AIs, GTIN-14, values percent-encoded where needed."""
        parts = [self.key_ai, self.key]
        for ai, value in self.qualifiers:
            parts += [ai, encode(value)]
        return "/" + "/".join(parts)

    @property
    def ident(self) -> str:
        """The identifier as the EPCIS index stores it (constrained canonical, id.gs1.org)."""
        return identifiers.canonical_id(identifiers.CANONICAL_BASE + self.path)


def encode(value: str) -> str:
    """A value as a canonical Digital Link writes it (the same escapes as the EPCIS index)."""
    return value.translate(_ENCODE_TABLE)


def _decode(raw: str, pointer: str, ai: str) -> str:
    if not raw:
        raise DigitalLinkError(pointer, N_("AI %(ai)s has an empty value"), "empty_value", ai=ai)
    if "%" in _ESCAPE.sub("", raw):
        raise DigitalLinkError(
            pointer,
            N_("The value of AI %(ai)s has a percent sign that is not a valid escape"),
            "bad_escape",
            ai=ai,
        )
    for c in _ESCAPE.sub("", raw):
        if c not in _RAW_OK:
            raise _bad_character(pointer, ai)
    value = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    if any(c not in _CSET82 for c in value):
        raise _bad_character(pointer, ai)
    return value


def _bad_character(pointer: str, ai: str) -> DigitalLinkError:
    return DigitalLinkError(
        pointer,
        N_("The value of AI %(ai)s contains a character that GS1 does not allow"),
        "bad_character",
        ai=ai,
    )


def _check_key(ai: str, raw: str) -> str:
    name = KEY_NAMES[ai]
    lengths = {"01": (8, 12, 13, 14), "00": (18,), "414": (13,)}[ai]
    if not raw:
        raise DigitalLinkError("/path", N_("AI %(ai)s has an empty value"), "empty_value", ai=ai)
    if _DIGITS.fullmatch(raw) is None or len(raw) not in lengths:
        raise DigitalLinkError(
            "/path",
            N_("A %(key)s has %(lengths)s digits"),
            "key_format",
            key=name,
            lengths=" / ".join(str(n) for n in lengths),
        )
    value = raw.zfill(14) if ai == "01" else raw
    if identifiers.check_digit(value[:-1]) != value[-1]:
        raise DigitalLinkError(
            "/path",
            N_("The check digit of the %(key)s %(value)s is wrong"),
            "check_digit",
            key=name,
            value=raw,
        )
    _biip(ai, value, "/path")
    return value


@lru_cache(maxsize=4096)
def _biip_accepts(ai: str, value: str) -> bool:
    """Whether biip reads ``value`` as AI ``ai``. Kept per value: every scan of a product's
    stamps carries the same GTIN, and of a lot's the same lot."""
    try:
        element = GS1ElementString.extract(ai + value)
    except ParseError:
        return False
    return element.ai.ai == ai and element.value == value


def _biip(ai: str, value: str, pointer: str) -> None:
    """The value must match the AI's own format, as biip knows it (dates, lengths, digits)."""
    if not _biip_accepts(ai, value):
        raise DigitalLinkError(
            pointer,
            N_("The value %(value)s does not match the format of AI %(ai)s"),
            "bad_format",
            ai=ai,
            value=value,
        )


@lru_cache(maxsize=1024)
def _is_ai(name: str) -> bool:
    if _DIGITS.fullmatch(name) is None:
        return False
    try:
        found = GS1ApplicationIdentifier.extract(name)
    except ParseError:
        return False
    return found.ai == name


def _position(ai: str, q: str, found: list[tuple[str, str]], rest: list[str]) -> int:
    """Where key qualifier ``q`` stands in the order of the standard; raises when it may not."""
    order = QUALIFIER_ORDER[ai]
    if q == "":
        raise DigitalLinkError(
            "/path",
            N_("The path contains an empty segment (two slashes in a row)"),
            "empty_segment",
        )
    if q in (a for a, _ in found):
        raise DigitalLinkError("/path", N_("AI %(ai)s is given more than once"), "repeated", ai=q)
    if q == _ALONE.get(ai) and not found and len(rest) == 2:
        return len(order)
    if q in order:
        return order.index(q)
    if q not in _QUALIFIERS and q not in _PRIMARY_KEYS and _is_ai(q):
        raise DigitalLinkError(
            "/path",
            N_("AI %(ai)s is a data attribute: give it in the query string, not in the path"),
            "attribute_in_path",
            ai=q,
        )
    raise DigitalLinkError(
        "/path",
        N_("%(segment)s is not a key qualifier of the %(key)s"),
        "not_qualifier",
        segment=q,
        key=KEY_NAMES[ai],
    )


def _qualifiers(ai: str, rest: list[str]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    last = -1
    for i in range(0, len(rest), 2):
        q = rest[i]
        pos = _position(ai, q, found, rest)
        if pos <= last:
            raise DigitalLinkError(
                "/path",
                N_("The key qualifiers of the %(key)s must come in the order %(order)s"),
                "qualifier_order",
                key=KEY_NAMES[ai],
                order=", ".join(QUALIFIER_ORDER[ai]),
            )
        last = pos
        if i + 1 >= len(rest):
            raise DigitalLinkError("/path", N_("AI %(ai)s has an empty value"), "empty_value", ai=q)
        value = _decode(rest[i + 1], "/path", q)
        if len(value) > _MAX_LENGTH[q]:
            raise DigitalLinkError(
                "/path",
                N_("The value of AI %(ai)s is longer than %(max)s characters"),
                "too_long",
                ai=q,
                max=_MAX_LENGTH[q],
            )
        _biip(q, value, "/path")
        found.append((q, value))
    return tuple(found)


def _query(query: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    attributes: dict[str, str] = {}
    params: list[tuple[str, str]] = []
    for part in query.split("&") if query else ():
        if not part:
            continue
        name, _, raw = part.partition("=")
        if not _is_ai(name):
            params.append((name, _unquote_param(raw)))
            continue
        pointer = f"/query/{name}"
        if name in _QUALIFIERS or name in _PRIMARY_KEYS:
            raise DigitalLinkError(
                pointer,
                N_("AI %(ai)s identifies the item: give it in the path, not in the query string"),
                "key_in_query",
                ai=name,
            )
        if name in attributes:
            raise DigitalLinkError(
                pointer, N_("AI %(ai)s is given more than once"), "repeated", ai=name
            )
        value = _decode(raw, pointer, name)
        _biip(name, value, pointer)
        attributes[name] = value
    return tuple(attributes.items()), tuple(params)


def _unquote_param(raw: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw.replace("+", " "))


def parse(path: str, query: str = "") -> DigitalLink:
    """Parse the raw (still percent-encoded) path and query of a request to the resolver."""
    segments = path.split("/")
    if segments[0] != "" or len(segments) < 3:
        raise DigitalLinkError("/path", N_("This is not a GS1 Digital Link"), "not_digital_link")
    segments = segments[1:]
    if len(segments) > 2 and segments[-1] == "" and len(segments) % 2 == 1:
        segments.pop()  # one trailing slash
    ai = segments[0]
    if ai in _QUALIFIERS:
        raise DigitalLinkError(
            "/path",
            N_("A Digital Link starts with its primary key (GTIN, SSCC or GLN), not AI %(ai)s"),
            "qualifier_before_key",
            ai=ai,
        )
    if ai not in KEY_NAMES:
        raise DigitalLinkError("/path", N_("This is not a GS1 Digital Link"), "not_digital_link")
    key = _check_key(ai, segments[1])
    qualifiers = _qualifiers(ai, segments[2:])
    attributes, params = _query(query)
    return DigitalLink(ai, key, qualifiers, attributes, params)
