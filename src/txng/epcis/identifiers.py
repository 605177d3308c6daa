"""GS1 identifiers in EPCIS events: EPC URNs and GS1 Digital Link URIs.

EPCIS events name objects, locations and parties either by EPC URNs (GS1 EPC Tag Data Standard,
e.g. ``urn:epc:id:sgtin:0614141.107346.2017``) or by GS1 Digital Link URIs on any domain
(e.g. ``https://example.com/01/00614141073467/21/2017``).  Both spellings of the same thing must
compare equal, so :func:`canonical_id` maps every one of them to a single *canonical* Digital Link
URI on ``https://id.gs1.org/``:

* the GTIN is padded to 14 digits, and only the finest level of identification is kept
  (``01``+``21`` serial, ``01``+``235`` TPX, ``01``+``10`` lot, or the plain GTIN; a CPV ``22``
  is dropped, and a lot is dropped when a serial is present) — the "constrained canonical"
  form of GS1 CBV 2.0, section 8.9 (event hash);
* the path prefix before the first primary key, the query string (data attributes) and the
  fragment are dropped; short names (``gtin``, ``ser``, ``lot`` …) become numeric AIs;
* values are percent-decoded, checked against the GS1 character sets and re-encoded: the
  characters ``! " # % & ( ) * + , / : < > ?`` are percent-encoded (upper-case hex), every other
  allowed character is written as is.

EPC pattern URIs (``urn:epc:idpat:...``) are canonicalised only where the pattern denotes a GS1 key
*without* its serial part, i.e. the last component is ``*`` and every other component is given:
``sgtin`` and ``upui`` → the GTIN (``/01/{gtin}``), ``grai`` → the GRAI without serial, ``gdti`` and
``sgcn`` → the document/coupon type without serial, ``cpi`` → the CPID, ``itip`` → the ITIP.  Other
patterns (``urn:epc:idpat:sgtin:0614141.*.*``, ``urn:epc:idpat:sscc:...`` …) are returned unchanged,
as they do not name a single GS1 key.  An ``idpat`` whose last component is a concrete value names
exactly one EPC and is canonicalised like the matching ``urn:epc:id``.

Other URIs (non-GS1 EPC schemes such as ``urn:epc:id:adi``, ordinary web addresses, ``geo:``
URIs …) are returned unchanged.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "IdentifierError",
    "canonical_id",
    "check_digit",
    "gtin_dl",
    "kind_of",
    "lgtin_dl",
    "sgln_dl",
    "sgtin_dl",
    "sscc_dl",
    "to_epc_urn",
]

CANONICAL_BASE: Final = "https://id.gs1.org"


class IdentifierError(ValueError):
    """A value that claims to be a GS1 identifier (EPC URN or Digital Link) but is malformed."""


# ---------------------------------------------------------------------------------------------
# character sets and percent-encoding

_CSET82: Final = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_CSET39: Final = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS: Final = frozenset("0123456789")

# Characters written percent-encoded in a canonical Digital Link value.
_DL_ESCAPES: Final = {c: f"%{ord(c):02X}" for c in '!"#%&()*+,/:<>?'}
_DL_NEEDS_ESCAPE: Final = re.compile(r'[!"#%&()*+,/:<>?]')
# Characters that must be escaped in an EPC URN component (TDS: " % & / < > ?; # for CPI).
_URN_ESCAPES: Final = {c: f"%{ord(c):02X}" for c in '"#%&/<>?'}
_URN_NEEDS_ESCAPE: Final = re.compile(r'["#%&/<>?]')
_PERCENT: Final = re.compile(r"%([0-9A-Fa-f]{2})")


def _dl_encode(value: str) -> str:
    if _DL_NEEDS_ESCAPE.search(value) is None:
        return value
    return "".join(_DL_ESCAPES.get(c, c) for c in value)


def _urn_encode(value: str) -> str:
    if _URN_NEEDS_ESCAPE.search(value) is None:
        return value
    return "".join(_URN_ESCAPES.get(c, c) for c in value)


def _decode(value: str, what: str) -> str:
    if "%" not in value:
        return value
    # a "%" that does not start a valid escape is an error
    if "%" in _PERCENT.sub("", value):
        raise IdentifierError(f"{what} {value!r} contains a '%' that is not a valid %XX escape")
    return _PERCENT.sub(_unescape, value)


def _unescape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _check_chars(value: str, allowed: frozenset[str], what: str, cset: str) -> None:
    for c in value:
        if c not in allowed:
            raise IdentifierError(f"{what} contains {c!r}, which is not allowed in GS1 {cset}")


def _check_cset82(value: str, what: str, max_len: int, min_len: int = 1) -> None:
    if not min_len <= len(value) <= max_len:
        raise IdentifierError(
            f"{what} must be {min_len} to {max_len} characters long, got {len(value)}"
        )
    _check_chars(value, _CSET82, what, "character set 82")


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit for ``digits`` (the key without its check digit)."""
    raw = digits.encode("ascii")
    triple = raw[-1::-2]  # the rightmost digit and every second one to its left weigh 3
    single = raw[-2::-2]
    total = 3 * (sum(triple) - 48 * len(triple)) + sum(single) - 48 * len(single)
    return "0123456789"[-total % 10]


def _verify_check_digit(key: str, what: str) -> None:
    if check_digit(key[:-1]) != key[-1]:
        raise IdentifierError(
            f"{what} {key} has a wrong check digit (expected {check_digit(key[:-1])})"
        )


# ---------------------------------------------------------------------------------------------
# canonical Digital Link builder (shared by the URN and the Digital Link parsers)


def _dl(*parts: str) -> str:
    return CANONICAL_BASE + "/" + "/".join(parts)


# ---------------------------------------------------------------------------------------------
# Digital Link parsing

_PRIMARY_ALIASES: Final = {
    "00": "00",
    "sscc": "00",
    "01": "01",
    "gtin": "01",
    "253": "253",
    "gdti": "253",
    "255": "255",
    "gcn": "255",
    "401": "401",
    "ginc": "401",
    "402": "402",
    "gsin": "402",
    "414": "414",
    "gln": "414",
    "417": "417",
    "party": "417",
    "8003": "8003",
    "grai": "8003",
    "8004": "8004",
    "giai": "8004",
    "8006": "8006",
    "itip": "8006",
    "8010": "8010",
    "cpid": "8010",
    "8017": "8017",
    "gsrnp": "8017",
    "8018": "8018",
    "gsrn": "8018",
}

_QUALIFIER_ALIASES: Final = {
    "22": "22",
    "cpv": "22",
    "10": "10",
    "lot": "10",
    "21": "21",
    "ser": "21",
    "235": "235",
    "tpx": "235",
    "254": "254",
    "glnx": "254",
    "8011": "8011",
    "cpsn": "8011",
    "8019": "8019",
    "srin": "8019",
}

# Allowed key qualifiers per primary key, in the order the Digital Link grammar requires.
_QUALIFIER_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "01": ("22", "10", "21"),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "414": ("254",),
    "8017": ("8019",),
    "8018": ("8019",),
}

_AI_NAMES: Final = {
    "00": "SSCC",
    "01": "GTIN",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
    "414": "GLN",
    "417": "party GLN",
    "8003": "GRAI",
    "8004": "GIAI",
    "8006": "ITIP",
    "8010": "CPID",
    "8017": "GSRN-P",
    "8018": "GSRN",
    "10": "batch/lot",
    "21": "serial number",
    "22": "consumer product variant",
    "235": "third-party controlled serial",
    "254": "GLN extension",
    "8011": "CPID serial",
    "8019": "service relation instance",
}

_FIXED_DIGITS: Final = {
    "00": 18,
    "8006": 18,
    "414": 13,
    "417": 13,
    "402": 17,
    "8017": 18,
    "8018": 18,
}


def _leading_digits(value: str) -> int:
    n = 0
    for c in value:
        if c not in _DIGITS:
            break
        n += 1
    return n


def _primary_value(ai: str, raw: str) -> str | None:
    """Validate and normalise the value of a primary key.

    Returns None when ``raw`` does not look like a value of this key at all (so the URI is not a
    Digital Link), raises IdentifierError when it does but is malformed (e.g. bad check digit).
    """
    name = _AI_NAMES[ai]
    fixed = _FIXED_DIGITS.get(ai)
    if fixed is not None:
        if len(raw) != fixed or not raw.isascii() or not raw.isdigit():
            return None
        _verify_check_digit(raw[:14] if ai == "8006" else raw, name)
        return raw
    if ai == "01":
        if len(raw) not in (8, 12, 13, 14) or not raw.isascii() or not raw.isdigit():
            return None
        gtin = raw.zfill(14)
        _verify_check_digit(gtin, name)
        return gtin
    lead = _leading_digits(raw)
    if ai in ("253", "255", "8003"):
        need = 14 if ai == "8003" else 13
        if lead < need:
            return None
        key = raw[:need]
        if ai == "8003" and raw[0] != "0":
            raise IdentifierError(f"GRAI {raw!r} must start with the digit 0")
        _verify_check_digit(key, name)
        if ai == "255":
            if lead != len(raw) or len(raw) > 25:
                raise IdentifierError(f"GCN {raw!r} must be 13 digits plus up to 12 digits")
            return raw
        serial = _decode(raw[need:], f"{name} serial")
        if serial:
            _check_cset82(serial, f"{name} serial", 16 if ai == "8003" else 17)
        return key + _dl_encode(serial)
    # 401, 8004, 8010: alphanumeric, starting with the GS1 Company Prefix
    if lead < 4:
        return None
    value = _decode(raw, name)
    if not 1 <= len(value) <= 30:
        raise IdentifierError(f"{name} must be 1 to 30 characters long, got {len(value)}")
    if ai == "8010":
        _check_chars(value, _CSET39, name, "character set 39")
    else:
        _check_chars(value, _CSET82, name, "character set 82")
    return _dl_encode(value)


def _qualifier_value(ai: str, raw: str) -> str:
    name = _AI_NAMES[ai]
    value = _decode(raw, name)
    if ai == "8011":
        if not 1 <= len(value) <= 12 or not value.isascii() or not value.isdigit():
            raise IdentifierError(f"{name} must be 1 to 12 digits, got {value!r}")
        return value
    if ai == "8019":
        if not 1 <= len(value) <= 10 or not value.isascii() or not value.isdigit():
            raise IdentifierError(f"{name} must be 1 to 10 digits, got {value!r}")
        return value
    _check_cset82(value, name, 28 if ai == "235" else 20)
    return value


def _parse_digital_link(value: str) -> str | None:
    """Canonical form of a Digital Link URI, None when ``value`` is no Digital Link."""
    start = value.find("//")
    if start < 0:
        return None
    end = len(value)
    for sep in ("?", "#"):
        pos = value.find(sep, start)
        if 0 <= pos < end:
            end = pos
    slash = value.find("/", start + 2, end)
    if slash < 0:
        return None
    segments = value[slash + 1 : end].split("/")
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash is allowed
    for i in range(len(segments) - 1):
        ai = _PRIMARY_ALIASES.get(segments[i])
        if ai is None:
            continue
        key = _primary_value(ai, segments[i + 1])
        if key is None:
            continue
        return _canonical_from_parts(ai, key, segments[i + 2 :], value)
    return None


def _canonical_from_parts(ai: str, key: str, rest: list[str], value: str) -> str:
    if len(rest) % 2:
        raise IdentifierError(
            f"Digital Link {value!r}: the path after the {_AI_NAMES[ai]} must be pairs of "
            "key qualifier and value"
        )
    allowed = _QUALIFIER_ORDER.get(ai, ())
    quals: dict[str, str] = {}
    last = -1
    for j in range(0, len(rest), 2):
        q = _QUALIFIER_ALIASES.get(rest[j])
        if ai == "01" and q == "235":
            if quals:
                raise IdentifierError(
                    f"Digital Link {value!r}: AI 235 cannot be combined with other qualifiers"
                )
            quals[q] = _qualifier_value(q, rest[j + 1])
            last = 99
            continue
        if q is None or q not in allowed:
            raise IdentifierError(
                f"Digital Link {value!r}: {rest[j]!r} is not a key qualifier of the "
                f"{_AI_NAMES[ai]} (AI {ai})"
            )
        pos = allowed.index(q)
        if pos <= last:
            raise IdentifierError(
                f"Digital Link {value!r}: key qualifiers are not in the order " + "/".join(allowed)
            )
        last = pos
        quals[q] = _qualifier_value(q, rest[j + 1])
    return _canonical(ai, key, quals)


def _canonical(ai: str, key: str, quals: dict[str, str]) -> str:
    if ai in ("01", "8006"):
        for q in ("21", "235", "10"):
            if q in quals:
                return _dl(ai, key, q, _dl_encode(quals[q]))
        return _dl(ai, key)
    for q in ("254", "8011", "8019"):
        if q in quals:
            return _dl(ai, key, q, _dl_encode(quals[q]))
    return _dl(ai, key)


# ---------------------------------------------------------------------------------------------
# EPC URN parsing

_URN_FORBIDDEN_RAW: Final = frozenset('"&/<>?#')


def _urn_text(raw: str, what: str) -> str:
    """Decode an EPC URN component (TDS escapes) and reject raw characters that need escaping."""
    for c in raw:
        if c in _URN_FORBIDDEN_RAW:
            raise IdentifierError(f"{what} contains {c!r}, which must be %-escaped in an EPC URN")
    return _decode(raw, what)


def _digits(value: str, what: str) -> str:
    if not value or not value.isascii() or not value.isdigit():
        raise IdentifierError(f"{what} must consist of digits, got {value!r}")
    return value


def _gcp(value: str) -> str:
    _digits(value, "GS1 Company Prefix")
    if not 6 <= len(value) <= 12:
        raise IdentifierError(f"GS1 Company Prefix must have 6 to 12 digits, got {len(value)}")
    return value


def _split(body: str, n: int, scheme: str) -> list[str]:
    parts = body.split(".", n - 1)
    if len(parts) != n:
        raise IdentifierError(
            f"EPC URN scheme {scheme!r} needs {n} dot-separated parts, got {len(parts)}"
        )
    return parts


def _gcp_ref(gcp: str, ref: str, total: int, scheme: str, empty_ok: bool = True) -> str:
    _gcp(gcp)
    if ref or not empty_ok:
        _digits(ref, f"{scheme} reference")
    if len(gcp) + len(ref) != total:
        raise IdentifierError(
            f"{scheme}: GS1 Company Prefix and reference must have {total} digits together, "
            f"got {len(gcp) + len(ref)}"
        )
    return gcp + ref


def _gtin_from(gcp: str, itemref: str, scheme: str) -> str:
    _gcp_ref(gcp, itemref, 13, scheme, empty_ok=False)
    body = itemref[0] + gcp + itemref[1:]
    return body + check_digit(body)


def _key13(gcp: str, ref: str, scheme: str) -> str:
    body = _gcp_ref(gcp, ref, 12, scheme)
    return body + check_digit(body)


def _urn_id(scheme: str, body: str, pattern: bool) -> str | None:
    """Canonical Digital Link for an EPC URN body; None when the scheme has no GS1 key form."""
    if scheme == "sgtin":
        gcp, itemref, serial = _split(body, 3, scheme)
        gtin = _gtin_from(gcp, itemref, scheme)
        if pattern and serial == "*":
            return _dl("01", gtin)
        s = _urn_text(serial, "SGTIN serial")
        _check_cset82(s, "SGTIN serial", 20)
        return _dl("01", gtin, "21", _dl_encode(s))
    if scheme == "sscc" and not pattern:
        gcp, ref = _split(body, 2, scheme)
        _gcp_ref(gcp, ref, 17, scheme, empty_ok=False)
        sscc = ref[0] + gcp + ref[1:]
        return _dl("00", sscc + check_digit(sscc))
    if scheme == "sgln" and not pattern:
        gcp, ref, ext = _split(body, 3, scheme)
        gln = _key13(gcp, ref, scheme)
        e = _urn_text(ext, "SGLN extension")
        _check_cset82(e, "SGLN extension", 20)
        if e == "0":
            return _dl("414", gln)
        return _dl("414", gln, "254", _dl_encode(e))
    if scheme in ("grai", "gdti"):
        gcp, ref, serial = _split(body, 3, scheme)
        key = _key13(gcp, ref, scheme)
        if scheme == "grai":
            key = "0" + key[:-1]
            key += check_digit(key)
            ai, max_len = "8003", 16
        else:
            ai, max_len = "253", 17
        if pattern and serial == "*":
            return _dl(ai, key)
        s = _urn_text(serial, f"{scheme.upper()} serial")
        _check_cset82(s, f"{scheme.upper()} serial", max_len)
        return _dl(ai, key + _dl_encode(s))
    if scheme == "sgcn":
        gcp, ref, serial = _split(body, 3, scheme)
        key = _key13(gcp, ref, scheme)
        if pattern and serial == "*":
            return _dl("255", key)
        _digits(serial, "SGCN serial")
        if len(serial) > 12:
            raise IdentifierError("SGCN serial must have at most 12 digits")
        return _dl("255", key + serial)
    if scheme in ("giai", "ginc") and not pattern:
        gcp, ref = _split(body, 2, scheme)
        _gcp(gcp)
        value = gcp + _urn_text(ref, f"{scheme.upper()} reference")
        _check_cset82(value, scheme.upper(), 30)
        return _dl("8004" if scheme == "giai" else "401", _dl_encode(value))
    if scheme in ("gsrn", "gsrnp") and not pattern:
        gcp, ref = _split(body, 2, scheme)
        digits = _gcp_ref(gcp, ref, 17, scheme, empty_ok=False)
        return _dl("8018" if scheme == "gsrn" else "8017", digits + check_digit(digits))
    if scheme == "gsin" and not pattern:
        gcp, ref = _split(body, 2, scheme)
        digits = _gcp_ref(gcp, ref, 16, scheme, empty_ok=False)
        return _dl("402", digits + check_digit(digits))
    if scheme == "pgln" and not pattern:
        gcp, ref = _split(body, 2, scheme)
        return _dl("417", _key13(gcp, ref, scheme))
    if scheme == "cpi":
        gcp, ref, serial = _split(body, 3, scheme)
        _gcp(gcp)
        value = gcp + _urn_text(ref, "CPI reference")
        if not 1 <= len(value) <= 30:
            raise IdentifierError("CPID must be 1 to 30 characters long")
        _check_chars(value, _CSET39, "CPID", "character set 39")
        if pattern and serial == "*":
            return _dl("8010", _dl_encode(value))
        _digits(serial, "CPI serial")
        if len(serial) > 12:
            raise IdentifierError("CPI serial must have at most 12 digits")
        return _dl("8010", _dl_encode(value), "8011", serial)
    if scheme == "itip":
        gcp, itemref, piece, total, serial = _split(body, 5, scheme)
        gtin = _gtin_from(gcp, itemref, scheme)
        for part, what in ((piece, "piece"), (total, "total")):
            _digits(part, f"ITIP {what}")
            if len(part) != 2:
                raise IdentifierError(f"ITIP {what} must have 2 digits")
        key = gtin + piece + total
        if pattern and serial == "*":
            return _dl("8006", key)
        s = _urn_text(serial, "ITIP serial")
        _check_cset82(s, "ITIP serial", 20)
        return _dl("8006", key, "21", _dl_encode(s))
    if scheme == "upui":
        gcp, itemref, tpx = _split(body, 3, scheme)
        gtin = _gtin_from(gcp, itemref, scheme)
        if pattern and tpx == "*":
            return _dl("01", gtin)
        t = _urn_text(tpx, "UPUI third-party serial")
        _check_cset82(t, "UPUI third-party serial", 28)
        return _dl("01", gtin, "235", _dl_encode(t))
    return None


_GS1_ID_SCHEMES: Final = frozenset(
    [
        "sgtin",
        "sscc",
        "sgln",
        "grai",
        "giai",
        "gsrn",
        "gsrnp",
        "gdti",
        "cpi",
        "sgcn",
        "ginc",
        "gsin",
        "itip",
        "upui",
        "pgln",
    ]
)
_PATTERN_SCHEMES: Final = frozenset(["sgtin", "grai", "gdti", "sgcn", "cpi", "itip", "upui"])


def _parse_urn(value: str) -> str | None:
    parts = value.split(":", 4)
    if len(parts) != 5:
        return None
    kind = parts[2].lower()
    scheme = parts[3].lower()
    body = parts[4]
    if kind == "id":
        if scheme not in _GS1_ID_SCHEMES:
            return None
        return _urn_id(scheme, body, pattern=False)
    if kind == "class":
        if scheme != "lgtin":
            return None
        gcp, itemref, lot = _split(body, 3, scheme)
        gtin = _gtin_from(gcp, itemref, scheme)
        lo = _urn_text(lot, "LGTIN lot")
        _check_cset82(lo, "LGTIN lot", 20)
        return _dl("01", gtin, "10", _dl_encode(lo))
    if kind == "idpat":
        if scheme not in _PATTERN_SCHEMES:
            return None
        # only patterns that fix everything but the last component name a GS1 key
        head, _, _last = body.rpartition(".")
        if "*" in head:
            return None
        return _urn_id(scheme, body, pattern=True)
    return None


# ---------------------------------------------------------------------------------------------
# public API

_CACHE: dict[str, str] = {}
_CACHE_MAX: Final = 200_000


# Fast paths for the most common shapes (plain serials that need no escaping); anything else goes
# through the general parsers, which give the same result.
_FAST_SGTIN: Final = re.compile(
    r"urn:epc:id:sgtin:([0-9]{6,12})\.([0-9]{1,7})\.([A-Za-z0-9_.-]{1,20})"
)
_FAST_DL: Final = re.compile(
    r"https?://[^/?#]+/01/([0-9]{14})/21/([A-Za-z0-9_.-]{1,20})/?(?:[?#].*)?", re.DOTALL
)


def _fast(value: str) -> str | None:
    m = _FAST_SGTIN.fullmatch(value)
    if m is not None:
        gcp, ref, serial = m.groups()
        if len(gcp) + len(ref) != 13:
            return None
        body = ref[0] + gcp + ref[1:]
        return f"{CANONICAL_BASE}/01/{body}{check_digit(body)}/21/{serial}"
    m = _FAST_DL.fullmatch(value)
    if m is not None:
        gtin, serial = m.groups()
        if check_digit(gtin[:13]) != gtin[13]:
            return None
        return f"{CANONICAL_BASE}/01/{gtin}/21/{serial}"
    return None


def canonical_id(value: str) -> str:
    """The canonical GS1 Digital Link URI for a GS1 EPC URN or Digital Link; other URIs unchanged.

    Raises IdentifierError for a malformed GS1 URN (wrong number of parts, non-digits, wrong
    lengths, characters outside the GS1 character set) or a malformed Digital Link (bad check
    digit, unknown or misordered key qualifier).
    """
    cached = _CACHE.get(value)
    if cached is not None:
        return cached
    head = value[:8].lower()
    result = _fast(value)
    if result is not None:
        pass
    elif head == "urn:epc:":
        result = _parse_urn(value)
    elif head.startswith(("http://", "https://")):
        result = _parse_digital_link(value)
    else:
        return value
    if result is None:
        result = value
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[value] = result
    return result


def _is_gs1(canonical: str) -> bool:
    return canonical.startswith(CANONICAL_BASE + "/")


def _dl_parts(canonical: str) -> list[str]:
    return canonical[len(CANONICAL_BASE) + 1 :].split("/")


def kind_of(value: str) -> str:
    """A short kind for display: item, lot, class, logistic_unit, location, party, asset, other."""
    try:
        canonical = canonical_id(value)
    except IdentifierError:
        return "other"
    if not _is_gs1(canonical):
        return "other"
    parts = _dl_parts(canonical)
    ai = parts[0]
    if ai in ("01", "8006"):
        if len(parts) == 2:
            return "class"
        return "lot" if parts[2] == "10" else "item"
    return {
        "00": "logistic_unit",
        "414": "location",
        "417": "party",
        "8003": "asset",
        "8004": "asset",
    }.get(ai, "other")


def _company_prefix_length(digits: str) -> int | None:
    from biip.gs1_prefixes import GS1CompanyPrefix  # heavy import, rarely needed

    if not digits.isdecimal():
        return None
    prefix = GS1CompanyPrefix.extract(digits)
    if prefix is None or not 6 <= len(prefix.value) <= 12:
        return None
    return len(prefix.value)


def _dl_decode(value: str) -> str:
    return _PERCENT.sub(_unescape, value)


def to_epc_urn(value: str) -> str | None:
    """Best-effort EPC URN for a GS1 identifier (Digital Link or EPC URN).

    Uses the GS1 Company Prefix length table shipped with biip.  Returns None when the value is no
    GS1 identifier, the company prefix length is unknown, or the key has no EPC URN form (e.g. a
    GTIN with a lot *and* ITIP).  A GTIN without serial gives the ``urn:epc:idpat:sgtin:...*``
    pattern (the inverse of :func:`canonical_id`).  EPC URNs are returned normalised.  Raises
    IdentifierError for a malformed GS1 identifier, like :func:`canonical_id`.
    """
    canonical = canonical_id(value)
    gcp_len: int | None = None
    if value[:8].lower() == "urn:epc:":
        parts = value.split(":", 4)
        if parts[2].lower() == "idpat":
            return "urn:epc:idpat:" + parts[3].lower() + ":" + parts[4]
        gcp_len = len(parts[4].split(".", 1)[0])
    if not _is_gs1(canonical):
        return None
    parts = _dl_parts(canonical)
    ai, key = parts[0], parts[1]
    qual = parts[2] if len(parts) > 2 else None
    qval = _dl_decode(parts[3]) if len(parts) > 3 else None

    def prefix_len(digits: str) -> int | None:
        return gcp_len if gcp_len is not None else _company_prefix_length(digits)

    if ai in ("01", "8006"):
        gtin = key[:14]
        n = prefix_len(gtin[1:13])
        if n is None:
            return None
        cp, item = gtin[1 : 1 + n], gtin[0] + gtin[1 + n : 13]
        if ai == "8006":
            pt = key[14:16] + "." + key[16:18]
            if qual == "21" and qval is not None:
                return f"urn:epc:id:itip:{cp}.{item}.{pt}.{_urn_encode(qval)}"
            if qual is None:
                return f"urn:epc:idpat:itip:{cp}.{item}.{pt}.*"
            return None
        if qual == "21" and qval is not None:
            return f"urn:epc:id:sgtin:{cp}.{item}.{_urn_encode(qval)}"
        if qual == "10" and qval is not None:
            return f"urn:epc:class:lgtin:{cp}.{item}.{_urn_encode(qval)}"
        if qual == "235" and qval is not None:
            return f"urn:epc:id:upui:{cp}.{item}.{_urn_encode(qval)}"
        return f"urn:epc:idpat:sgtin:{cp}.{item}.*"
    if ai == "00":
        n = prefix_len(key[1:17])
        if n is None:
            return None
        return f"urn:epc:id:sscc:{key[1 : 1 + n]}.{key[0]}{key[1 + n : 17]}"
    if ai in ("414", "417", "253", "255", "8003"):
        digits = key[1:14] if ai == "8003" else key[:13]
        n = prefix_len(digits[:12])
        if n is None:
            return None
        cp, ref = digits[:n], digits[n:12]
        if ai == "414":
            ext = "0" if qval is None else _urn_encode(qval)
            return f"urn:epc:id:sgln:{cp}.{ref}.{ext}"
        if ai == "417":
            return f"urn:epc:id:pgln:{cp}.{ref}"
        serial = _dl_decode(key[14:] if ai == "8003" else key[13:])
        scheme = {"253": "gdti", "255": "sgcn", "8003": "grai"}[ai]
        if not serial:
            return f"urn:epc:idpat:{scheme}:{cp}.{ref}.*"
        return f"urn:epc:id:{scheme}:{cp}.{ref}.{_urn_encode(serial)}"
    if ai in ("8017", "8018", "402"):
        total = 16 if ai == "402" else 17
        n = prefix_len(key[:12])
        if n is None:
            return None
        scheme = {"8017": "gsrnp", "8018": "gsrn", "402": "gsin"}[ai]
        return f"urn:epc:id:{scheme}:{key[:n]}.{key[n:total]}"
    if ai in ("8004", "401", "8010"):
        text = _dl_decode(key)
        lead = _leading_digits(text)
        n = prefix_len(text[: min(lead, 12)])
        if n is None or n > lead:
            return None
        cp, ref = text[:n], text[n:]
        if ai == "8010":
            if qual == "8011" and qval is not None:
                return f"urn:epc:id:cpi:{cp}.{_urn_encode(ref)}.{qval}"
            return f"urn:epc:idpat:cpi:{cp}.{_urn_encode(ref)}.*"
        scheme = "giai" if ai == "8004" else "ginc"
        return f"urn:epc:id:{scheme}:{cp}.{_urn_encode(ref)}"
    return None  # pragma: no cover - every canonical primary key is handled above


# ---------------------------------------------------------------------------------------------
# builders


def _gtin14(gtin: str) -> str:
    if len(gtin) not in (8, 12, 13, 14) or not gtin.isascii() or not gtin.isdigit():
        raise IdentifierError(f"GTIN must be 8, 12, 13 or 14 digits, got {gtin!r}")
    g = gtin.zfill(14)
    _verify_check_digit(g, "GTIN")
    return g


def gtin_dl(gtin: str) -> str:
    """Canonical Digital Link of a GTIN (8, 12, 13 or 14 digits): ``…/01/{gtin14}``."""
    return _dl("01", _gtin14(gtin))


def sgtin_dl(gtin: str, serial: str) -> str:
    """Canonical Digital Link of a serialised item (GTIN + serial number, AI 21)."""
    _check_cset82(serial, "serial number", 20)
    return _dl("01", _gtin14(gtin), "21", _dl_encode(serial))


def lgtin_dl(gtin: str, lot: str) -> str:
    """Canonical Digital Link of a batch/lot (GTIN + lot, AI 10)."""
    _check_cset82(lot, "batch/lot", 20)
    return _dl("01", _gtin14(gtin), "10", _dl_encode(lot))


def sgln_dl(gln: str, extension: str | None = None) -> str:
    """Canonical Digital Link of a location (GLN, AI 414, optional extension AI 254)."""
    if len(gln) != 13 or not gln.isascii() or not gln.isdigit():
        raise IdentifierError(f"GLN must be 13 digits, got {gln!r}")
    _verify_check_digit(gln, "GLN")
    if extension is None:
        return _dl("414", gln)
    _check_cset82(extension, "GLN extension", 20)
    return _dl("414", gln, "254", _dl_encode(extension))


def sscc_dl(sscc: str) -> str:
    """Canonical Digital Link of a logistic unit (SSCC, AI 00)."""
    if len(sscc) != 18 or not sscc.isascii() or not sscc.isdigit():
        raise IdentifierError(f"SSCC must be 18 digits, got {sscc!r}")
    _verify_check_digit(sscc, "SSCC")
    return _dl("00", sscc)
