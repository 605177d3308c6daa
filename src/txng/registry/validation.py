"""Field checks shared by the registry's create and update paths; each adds to an ErrorCollector."""

from __future__ import annotations

from txng.errors import N_, ErrorCollector
from txng.kit.adminunits import admin_units
from txng.kit.gs1 import GS1KeyError, normalize_company_prefix, normalize_gln, normalize_gtin
from txng.kit.taxcode import TaxCodeError, normalize_tax_code


def tax_code(errors: ErrorCollector, value: str, pointer: str = "/tax_code") -> str:
    try:
        return normalize_tax_code(value)
    except TaxCodeError as exc:
        errors.add(pointer, exc.msgid)
        return value


def gtin(errors: ErrorCollector, value: str, pointer: str = "/gtin") -> str:
    try:
        return normalize_gtin(value)
    except GS1KeyError as exc:
        errors.add(pointer, exc.msgid, "bad_gtin", **exc.params)
        return value


def gln(errors: ErrorCollector, value: str | None, pointer: str = "/gln") -> str | None:
    if not value:
        return None
    try:
        return normalize_gln(value)
    except GS1KeyError as exc:
        errors.add(pointer, exc.msgid, "bad_gln", **exc.params)
        return value


def company_prefix(
    errors: ErrorCollector, value: str | None, pointer: str = "/gs1_company_prefix"
) -> str | None:
    if not value:
        return None
    try:
        return normalize_company_prefix(value)
    except GS1KeyError as exc:
        errors.add(pointer, exc.msgid, "bad_prefix", **exc.params)
        return value


def address(
    errors: ErrorCollector, province_code: str, commune_code: str, prefix: str = ""
) -> None:
    units = admin_units()
    if province_code not in units.provinces:
        errors.add(f"{prefix}/province_code", N_("Unknown province code"), "unknown_province")
        return
    if commune_code not in units.communes:
        errors.add(f"{prefix}/commune_code", N_("Unknown commune code"), "unknown_commune")
    elif not units.commune_in_province(commune_code, province_code):
        errors.add(
            f"{prefix}/commune_code",
            N_("This commune is not in the chosen province"),
            "commune_outside_province",
        )
