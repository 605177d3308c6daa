"""EPC URNs for the canonical Digital Links of a trace, for people and systems that read URNs."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from sqlalchemy.orm import Session

from txng.epcis import identifiers
from txng.trace import repository as repo
from txng.trace.graph import GS1

# A serial without percent-escapes is written the same in a Digital Link and in an EPC URN.
_PLAIN_SGTIN = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/21/([^/%]+)$")
_SGTIN_PATTERN = "urn:epc:idpat:sgtin:"
_DL = re.compile(r"^https://id\.gs1\.org/(01|00|414|417|402)/(\d+)(?:/(10|21|254)/([^/]+))?$")


def epc_urns(session: Session, idents: Iterable[str]) -> dict[str, str]:
    """EPC URNs of canonical identifiers, where one can be written (the company prefix length is
    known to biip's table or to the registry)."""
    prefixes: list[str] | None = None
    heads: dict[str, str | None] = {}  # GTIN → "{company prefix}.{item reference}"

    def urn_of(ident: str) -> str | None:
        nonlocal prefixes
        try:
            urn = identifiers.to_epc_urn(ident)
        except identifiers.IdentifierError:
            return None
        if urn is None and _DL.match(ident):
            if prefixes is None:
                prefixes = sorted(repo.company_prefixes(session), key=len, reverse=True)
            urn = _urn_with_prefix(ident, prefixes)
        return urn

    out: dict[str, str] = {}
    for ident in idents:
        # Items of one GTIN share everything but the serial: work the prefix out once.
        serialised = _PLAIN_SGTIN.match(ident)
        if serialised is not None:
            gtin, serial = serialised.groups()
            if gtin not in heads:
                pattern = urn_of(GS1 + "01/" + gtin) or ""
                heads[gtin] = pattern[len(_SGTIN_PATTERN) : -2] if pattern else None
            head = heads[gtin]
            if head:
                out[ident] = f"urn:epc:id:sgtin:{head}.{serial}"
                continue
        urn = urn_of(ident)
        if urn is not None:
            out[ident] = urn
    return out


def _urn_with_prefix(ident: str, prefixes: Collection[str]) -> str | None:
    match = _DL.match(ident)
    if match is None:
        return None
    ai, key, qualifier, value = match.groups()
    digits = key[1:] if ai in ("01", "00") else key
    for cp in prefixes:
        if not digits.startswith(cp):
            continue
        n = len(cp)
        candidate: str | None = None
        if ai == "01" and len(key) == 14:
            item = key[0] + key[1 + n : 13]
            if qualifier == "21":
                candidate = f"urn:epc:id:sgtin:{cp}.{item}.{value}"
            elif qualifier == "10":
                candidate = f"urn:epc:class:lgtin:{cp}.{item}.{value}"
            elif qualifier is None:
                candidate = f"urn:epc:idpat:sgtin:{cp}.{item}.*"
        elif ai == "00" and qualifier is None and len(key) == 18:
            candidate = f"urn:epc:id:sscc:{cp}.{key[0]}{key[1 + n : 17]}"
        elif ai == "414" and qualifier in (None, "254"):
            candidate = f"urn:epc:id:sgln:{cp}.{key[n:12]}.{value or '0'}"
        elif ai == "417" and qualifier is None:
            candidate = f"urn:epc:id:pgln:{cp}.{key[n:12]}"
        elif ai == "402" and qualifier is None:
            candidate = f"urn:epc:id:gsin:{cp}.{key[n:16]}"
        if candidate is None:
            return None
        try:
            urn = identifiers.to_epc_urn(candidate)
            if urn is not None and identifiers.canonical_id(urn) == ident:
                return urn
        except identifiers.IdentifierError:
            continue
    return None
