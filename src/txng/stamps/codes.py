"""Stamp codes (pure, no database): serials, short human codes, PINs and Digital Link URIs.

* Serials: 13 symbols of a Crockford-like base-32 alphabet (digits and upper-case letters
  without I, L, O, U: nothing to misread on a print, all in GS1 AI 21's character set 82),
  drawn with :mod:`secrets`: 65 bits, unguessable.
* Short codes: 9 random symbols of the same alphabet plus one Luhn mod-32 check symbol, printed
  as ``XXXX-XXXX-XX`` under the QR for typing; the check symbol catches every single wrong
  symbol and most swaps of neighbours before the database is asked.
* PINs: 6 random digits, printed under a scratch layer.
* GS1 element strings: what a GS1 DataMatrix of the stamp carries, (01)(10)(21) read back from
  its Digital Link, so that both symbols always say the same.

See docs/adr/0011-stamps.md.
"""

from __future__ import annotations

import re
import secrets
from typing import Final
from urllib.parse import urlsplit

from txng.epcis import identifiers
from txng.resolver import dl

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE: Final = {c: i for i, c in enumerate(ALPHABET)}
# Symbols people type for the ones we left out (Crockford's decoding rules).
_ALIASES: Final = {"I": "1", "L": "1", "O": "0", "U": "V"}
SERIAL_LENGTH: Final = 13  # 13 × 5 = 65 bits
SERIAL_BITS: Final = SERIAL_LENGTH * 5
SHORT_RANDOM: Final = 9  # 45 bits, plus one check symbol
SHORT_LENGTH: Final = SHORT_RANDOM + 1
PIN_DIGITS: Final = 6


def _random_symbols(n: int) -> str:
    """``n`` symbols, 5 random bits each (one call to the OS's CSPRNG for all of them)."""
    value = int.from_bytes(secrets.token_bytes((5 * n + 7) // 8), "big")
    out = []
    for _ in range(n):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(out)


def new_serial() -> str:
    """A fresh random serial number (GS1 AI 21)."""
    return _random_symbols(SERIAL_LENGTH)


def check_symbol(payload: str) -> str:
    """The Luhn mod-32 check symbol of ``payload`` (symbols of :data:`ALPHABET`)."""
    factor, total, n = 2, 0, len(ALPHABET)
    for char in reversed(payload):
        addend = factor * _VALUE[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_short_code() -> str:
    """A fresh short code, 10 symbols without separators (see :func:`format_short_code`)."""
    payload = _random_symbols(SHORT_RANDOM)
    return payload + check_symbol(payload)


def normalize_code(text: str) -> str:
    """What a person typed, upper-cased, without spaces or dashes, look-alikes mapped."""
    cleaned = "".join(c for c in text.upper() if c not in " -\t")
    return "".join(_ALIASES.get(c, c) for c in cleaned)


def is_short_code(text: str) -> bool:
    """A well-formed short code (after :func:`normalize_code`) whose check symbol matches."""
    if len(text) != SHORT_LENGTH or any(c not in _VALUE for c in text):
        return False
    return check_symbol(text[:-1]) == text[-1]


def is_serial(text: str) -> bool:
    return len(text) == SERIAL_LENGTH and all(c in _VALUE for c in text)


def format_short_code(code: str) -> str:
    """``ABCD2345XY`` → ``ABCD-2345-XY``, as printed."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def new_pin() -> str:
    return str(secrets.randbelow(10**PIN_DIGITS)).zfill(PIN_DIGITS)


def stamp_uri(base_url: str, gtin: str, serial: str, lot: str | None = None) -> str:
    """The stamp's GS1 Digital Link on our domain: ``{base}/01/{gtin14}[/10/{lot}]/21/{serial}``.

    The GTIN's length and check digit, and the lot's and serial's characters, are checked by
    :mod:`txng.epcis.identifiers`; values are escaped as the resolver's canonical form does.
    """
    gtin14 = identifiers.gtin_dl(gtin).rsplit("/", 1)[1]
    identifiers.sgtin_dl(gtin14, serial)
    parts = ["01", gtin14]
    if lot:
        identifiers.lgtin_dl(gtin14, lot)
        parts += ["10", dl.encode(lot)]
    parts += ["21", dl.encode(serial)]
    return base_url.rstrip("/") + "/" + "/".join(parts)


# The end of a stamp's Digital Link (see :func:`stamp_uri`); lot and serial are escaped, no "/".
_STAMP_PATH: Final = re.compile(r"/01/[0-9]{14}(?:/10/[^/]+)?/21/[^/]+$")


def stamp_elements(uri: str) -> tuple[tuple[str, str], ...]:
    """The AIs and values of a stamp's Digital Link in element string order:
    ``(("01", gtin14), ("10", lot), ("21", serial))``, without the lot when none is printed.

    Raises ``ValueError`` when ``uri`` is not a stamp's link."""
    match = _STAMP_PATH.search(urlsplit(uri).path)
    if match is None:
        raise ValueError(f"not a stamp's Digital Link: {uri}")
    link = dl.parse(match.group(0))
    return (("01", link.key), *link.qualifiers)


def element_string(uri: str) -> str:
    """The stamp's GS1 element string as people read it: ``(01)…(10)…(21)…`` (the text printed
    under a GS1 symbol, and what a scanner reports for a GS1 DataMatrix)."""
    return "".join(f"({ai}){value}" for ai, value in stamp_elements(uri))
