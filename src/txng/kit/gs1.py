"""GS1 keys: GTIN, GLN and company prefixes, validated with biip.

Circular 02/2024/TT-BKHCN refers to TCVN 13274:2020, i.e. GS1 keys, for product and location
trace codes. We accept GTIN-8/12/13/14 at the edge and store GTIN-14.
"""

from __future__ import annotations

import re

from biip import ParseError
from biip.gln import Gln
from biip.gtin import Gtin

from txng.errors import N_

_DIGITS = re.compile(r"^[0-9]+$")


class GS1KeyError(ValueError):
    """A GS1 key that is malformed; ``msgid`` is a translatable message, ``params`` its values."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params if params else msgid)


def check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of a digit string (without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as GTIN-14."""
    raw = value.strip().replace(" ", "")
    if not _DIGITS.match(raw) or len(raw) not in (8, 12, 13, 14):
        raise GS1KeyError(N_("A GTIN has 8, 12, 13 or 14 digits"))
    try:
        gtin = Gtin.parse(raw)
    except ParseError as exc:
        if "check digit" in str(exc):
            raise GS1KeyError(
                N_("Wrong GTIN check digit: expected %(expected)s"),
                expected=check_digit(raw[:-1]),
            ) from exc
        raise GS1KeyError(N_("Not a valid GTIN")) from exc
    return str(gtin.as_gtin_14())


def normalize_gln(value: str) -> str:
    """Validate a 13-digit GLN and return it."""
    raw = value.strip().replace(" ", "")
    if not _DIGITS.match(raw) or len(raw) != 13:
        raise GS1KeyError(N_("A GLN has 13 digits"))
    if check_digit(raw[:-1]) != int(raw[-1]):
        raise GS1KeyError(
            N_("Wrong GLN check digit: expected %(expected)s"), expected=check_digit(raw[:-1])
        )
    Gln.parse(raw)
    return raw


def normalize_company_prefix(value: str) -> str:
    """A GS1 company prefix: 6 to 12 digits (GS1 Vietnam prefixes start with 893)."""
    raw = value.strip()
    if not _DIGITS.match(raw) or not 6 <= len(raw) <= 12:
        raise GS1KeyError(N_("A GS1 company prefix has 6 to 12 digits"))
    return raw


def with_check_digit(payload: str) -> str:
    """Append the check digit: handy for building demo GTINs and GLNs."""
    return payload + str(check_digit(payload))
