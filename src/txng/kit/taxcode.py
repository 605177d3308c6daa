"""Vietnamese tax codes (mã số thuế): 10 digits, or 10 digits + "-" + 3 digits for a branch.

The 10th digit is a check digit over the first nine (weights 31, 29, 23, 19, 17, 13, 7, 5, 3;
10 - sum mod 11), as set by the Ministry of Finance's tax-code structure; a code that fails it
was mistyped.
"""

from __future__ import annotations

import re

from txng.errors import N_

_TAX = re.compile(r"^([0-9]{10})(?:-?([0-9]{3}))?$")
_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


class TaxCodeError(ValueError):
    def __init__(self, msgid: str) -> None:
        self.msgid = msgid
        self.params: dict[str, object] = {}
        super().__init__(msgid)


def tax_check_digit(first_nine: str) -> int | None:
    """The check digit, or None when the rule yields 10 (such codes are never issued)."""
    value = 10 - sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True)) % 11
    return None if value == 10 else value


def normalize_tax_code(value: str) -> str:
    """Return ``NNNNNNNNNN`` or ``NNNNNNNNNN-NNN``; accepts 13 digits without the dash."""
    raw = value.strip().replace(" ", "")
    match = _TAX.match(raw)
    if not match:
        raise TaxCodeError(N_("A tax code has 10 digits, or 13 in the form NNNNNNNNNN-NNN"))
    main, branch = match.group(1), match.group(2)
    if tax_check_digit(main[:9]) != int(main[9]):
        raise TaxCodeError(N_("This tax code fails its check digit"))
    return f"{main}-{branch}" if branch else main


def make_tax_code(first_nine: str) -> str:
    """Build a valid tax code from nine digits (demo data and tests)."""
    digit = tax_check_digit(first_nine)
    if digit is None:
        raise ValueError("no valid check digit for these nine digits")
    return first_nine + str(digit)
