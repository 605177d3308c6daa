"""GS1 identifiers: EPC URN and Digital Link forms of the same thing give one canonical URI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epcis.conformance import maybe_dir
from txng.epcis.identifiers import (
    IdentifierError,
    canonical_id,
    check_digit,
    gtin_dl,
    kind_of,
    lgtin_dl,
    sgln_dl,
    sgtin_dl,
    sscc_dl,
    to_epc_urn,
)

# Pairs (EPC URN, Digital Link on some domain) that name the same thing.  The Digital Links were
# written by hand from the GS1 keys (check digits computed independently of the code under test:
# the GTIN 00614141073467 and GLN 0614141073467 are the GS1 TDS worked examples).
SAME_THING = [
    ("urn:epc:id:sgtin:0614141.007346.2017", "https://id.gs1.org/01/00614141073467/21/2017"),
    ("urn:epc:id:sgtin:0614141.007346.2017", "https://example.com/01/00614141073467/21/2017"),
    ("urn:epc:id:sgtin:0614141.007346.2017", "http://a.b/c/d/gtin/00614141073467/ser/2017?x=1"),
    ("urn:epc:id:sgtin:0614141.007346.2017", "https://x.org/01/614141073467/21/2017"),
    ("urn:epc:id:sgtin:0614141.007346.2017", "https://x.org/01/00614141073467/10/L1/21/2017"),
    ("urn:epc:id:sgtin:0614141.007346.2017", "https://x.org/01/00614141073467/22/V/21/2017/"),
    ("urn:epc:id:sgtin:0614141.007346.A%2FB", "https://x.org/01/00614141073467/21/A%2fB"),
    ("urn:epc:id:sgtin:0614141.007346.A!B", "https://x.org/01/00614141073467/21/A%21B"),
    ("urn:epc:id:sgtin:0614141.007346.A!B", "https://x.org/01/00614141073467/21/A!B"),
    ("urn:epc:class:lgtin:0614141.007346.LOT-7", "https://x.org/01/00614141073467/10/LOT-7"),
    ("urn:epc:idpat:sgtin:0614141.007346.*", "https://x.org/01/00614141073467"),
    ("urn:epc:id:sscc:0614141.1234567890", "https://x.org/00/106141412345678908"),
    ("urn:epc:id:sgln:0614141.07346.0", "https://x.org/414/0614141073467"),
    ("urn:epc:id:sgln:0614141.07346.1234", "https://x.org/gln/0614141073467/254/1234"),
    ("urn:epc:id:pgln:0614141.07346", "https://x.org/party/0614141073467"),
    ("urn:epc:id:grai:0614141.12345.400", "https://x.org/8003/00614141123452400"),
    ("urn:epc:id:giai:0614141.12345400", "https://x.org/giai/061414112345400"),
    ("urn:epc:id:gsrn:0614141.1234567890", "https://x.org/8018/061414112345678902"),
    ("urn:epc:id:gsrnp:0614141.1234567890", "https://x.org/8017/061414112345678902"),
    ("urn:epc:id:gdti:0614141.12345.400", "https://x.org/253/0614141123452400"),
    ("urn:epc:id:sgcn:4012345.67890.04711", "https://x.org/255/401234567890104711"),
    ("urn:epc:id:ginc:0614141.xyz3311cba", "https://x.org/401/0614141xyz3311cba"),
    ("urn:epc:id:gsin:0614141.123456789", "https://x.org/402/06141411234567890"),
    ("urn:epc:id:itip:4012345.012345.01.02.987", "https://x.org/8006/040123451234560102/21/987"),
    (
        "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
        "https://x.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB",
    ),
    ("urn:epc:id:cpi:0614141.123ABC.123456789", "https://x.org/8010/0614141123ABC/8011/123456789"),
    ("urn:epc:id:cpi:0614141.5PQ7%2F%23Z.9", "https://x.org/cpid/06141415PQ7%2F%23Z/cpsn/9"),
]


@pytest.mark.parametrize(("urn", "link"), SAME_THING)
def test_urn_and_digital_link_of_the_same_thing_are_equal(urn: str, link: str) -> None:
    canonical = canonical_id(urn)
    assert canonical == canonical_id(link)
    assert canonical.startswith("https://id.gs1.org/")
    assert "?" not in canonical
    assert canonical_id(canonical) == canonical  # idempotent


def test_gs1_worked_example_and_percent_encoding() -> None:
    assert (
        canonical_id("urn:epc:id:sgtin:0614141.007346.2017")
        == "https://id.gs1.org/01/00614141073467/21/2017"
    )
    # URN escapes are decoded and re-encoded the Digital Link way (upper-case hex; ! ( ) * + , :
    # are encoded too, ' ; = are not)
    assert canonical_id("urn:epc:id:sgtin:0614141.007346.a%2fb!(x);'=").endswith(
        "/21/a%2Fb%21%28x%29;'="
    )


def test_different_things_differ() -> None:
    a = canonical_id("urn:epc:id:sgtin:0614141.007346.2017")
    assert a != canonical_id("urn:epc:id:sgtin:0614141.007346.2018")
    assert a != canonical_id("urn:epc:class:lgtin:0614141.007346.2017")  # lot, not serial
    # the indicator digit is part of the GTIN
    assert canonical_id("urn:epc:id:sgtin:0614141.007346.1") != canonical_id(
        "urn:epc:id:sgtin:0614141.207346.1"
    )


@pytest.mark.parametrize(
    "value",
    [
        "urn:epc:id:adi:2S.SM04.1234",  # EPC, but no GS1 key
        "urn:uuid:a3c1d4c4-2fb4-4e1b-9c0f-1d8b0a2d8e11",
        "urn:epcglobal:cbv:bt:0614141000005:PO123",
        "https://example.org/rail/someSectorSpecificValue",
        "https://example.com/2023/01/05/report",  # "01" followed by no GTIN
        "https://example.com/01/abc",
        "geo:50.94,6.92",
        "http://localhost",
        "",
    ],
)
def test_non_gs1_values_are_unchanged(value: str) -> None:
    assert canonical_id(value) == value
    assert kind_of(value) == "other"
    assert to_epc_urn(value) is None


@pytest.mark.parametrize(
    "pattern", ["urn:epc:idpat:sgtin:0614141.*.*", "urn:epc:idpat:sscc:0614141.*"]
)
def test_patterns_over_many_keys_are_kept(pattern: str) -> None:
    assert canonical_id(pattern) == pattern
    assert kind_of(pattern) == "other"
    assert to_epc_urn(pattern) == pattern


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("urn:epc:id:sgtin:0614141.007346", "3 dot-separated parts"),
        ("urn:epc:id:sgtin:0614141.10734X.1", "digits"),
        ("urn:epc:id:sgtin:0614141.10734.1", "13 digits"),
        ("urn:epc:id:sgtin:06141.1073460.1", "6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141.007346.", "1 to 20 characters"),
        ("urn:epc:id:sgtin:0614141.007346.123456789012345678901", "1 to 20 characters"),
        ("urn:epc:id:sgtin:0614141.007346.a/b", "%-escaped"),
        ("urn:epc:id:sgtin:0614141.007346.a%zz", "valid %XX escape"),
        ("urn:epc:id:sgtin:0614141.007346.a%20b", "not allowed"),
        ("urn:epc:id:sscc:0614141.123456789", "17 digits"),
        ("urn:epc:id:sgln:0614141.0734.0", "12 digits"),
        ("urn:epc:class:lgtin:0614141.007346", "3 dot-separated parts"),
        ("https://x.org/01/00614141073468/21/1", "check digit"),
        ("https://x.org/00/106141412345678909", "check digit"),
        ("https://x.org/414/0614141073468", "check digit"),
        ("https://x.org/01/00614141073467/17/251231", "not a key qualifier"),
        ("https://x.org/01/00614141073467/21/1/10/L", "order"),
        ("https://x.org/01/00614141073467/21", "pairs"),
        ("https://x.org/01/00614141073467/21/a%20b", "not allowed"),
        ("https://x.org/8003/10614141123452400", "start with the digit 0"),
    ],
)
def test_malformed_gs1_identifiers_raise(value: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message):
        canonical_id(value)
    assert kind_of(value) == "other"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("urn:epc:id:sgtin:0614141.007346.2017", "item"),
        ("https://example.com/01/00614141073467/21/2017", "item"),
        ("urn:epc:id:upui:1234567.098765.X", "item"),
        ("urn:epc:class:lgtin:0614141.007346.L1", "lot"),
        ("https://example.com/01/00614141073467/10/L1", "lot"),
        ("https://example.com/01/00614141073467", "class"),
        ("urn:epc:idpat:sgtin:0614141.007346.*", "class"),
        ("urn:epc:id:sscc:0614141.1234567890", "logistic_unit"),
        ("urn:epc:id:sgln:0614141.07346.0", "location"),
        ("https://example.com/414/0614141073467/254/3", "location"),
        ("urn:epc:id:pgln:0614141.07346", "party"),
        ("urn:epc:id:grai:0614141.12345.400", "asset"),
        ("urn:epc:id:giai:0614141.12345400", "asset"),
        ("urn:epc:id:gdti:0614141.12345.400", "other"),
    ],
)
def test_kind_of(value: str, kind: str) -> None:
    assert kind_of(value) == kind


@pytest.mark.parametrize(
    "urn",
    [
        "urn:epc:id:sgtin:4012345.011111.9876",
        "urn:epc:id:sgtin:4012345.011111.98%22x%2F",
        "urn:epc:id:sscc:4012345.3111111111",
        "urn:epc:id:sgln:4012345.00005.122",
        "urn:epc:id:sgln:4012345.00005.0",
        "urn:epc:id:pgln:4012345.00005",
        "urn:epc:id:grai:4012345.00022.334455",
        "urn:epc:id:giai:4012345.ABC345",
        "urn:epc:id:gsrn:4012345.0000006765",
        "urn:epc:id:gsrnp:4012345.0000000007",
        "urn:epc:id:gdti:4012345.00009.PO-4711",
        "urn:epc:id:cpi:4012345.11-A%23%2F.1234",
        "urn:epc:id:sgcn:4012345.67890.04711",
        "urn:epc:id:ginc:4012345.xyz47%2F11",
        "urn:epc:id:gsin:4012345.222333444",
        "urn:epc:id:itip:4012345.011111.01.02.987",
        "urn:epc:id:upui:4012345.098765.51qIgY)%3C%26",
        "urn:epc:class:lgtin:4012345.012345.Lot987",
        "urn:epc:idpat:sgtin:4012345.012345.*",
    ],
)
def test_to_epc_urn_round_trip(urn: str) -> None:
    # 4012345 is a 7-digit GS1 Company Prefix in biip's table, so the Digital Link maps back
    link = canonical_id(urn)
    assert to_epc_urn(link) == urn
    assert to_epc_urn(urn) == urn
    assert to_epc_urn(urn.replace("urn:epc:", "URN:EPC:", 1)) == urn


def test_to_epc_urn_unknown_company_prefix_or_no_urn_form() -> None:
    assert to_epc_urn("https://id.gs1.org/01/09780345418913/21/1") is None  # Bookland ISBN
    assert to_epc_urn("https://id.gs1.org/8006/040123451111180102/10/L") is None  # ITIP + lot


def test_builders() -> None:
    assert sgtin_dl("00614141073467", "2017") == canonical_id(
        "urn:epc:id:sgtin:0614141.007346.2017"
    )
    assert sgtin_dl("614141073467", "a/b") == canonical_id("urn:epc:id:sgtin:0614141.007346.a%2Fb")
    assert lgtin_dl("00614141073467", "L1") == canonical_id("urn:epc:class:lgtin:0614141.007346.L1")
    assert gtin_dl("0614141073467") == canonical_id("urn:epc:idpat:sgtin:0614141.007346.*")
    assert sgln_dl("0614141073467") == canonical_id("urn:epc:id:sgln:0614141.07346.0")
    assert sgln_dl("0614141073467", "12") == canonical_id("urn:epc:id:sgln:0614141.07346.12")
    assert sscc_dl("106141412345678908") == canonical_id("urn:epc:id:sscc:0614141.1234567890")
    with pytest.raises(IdentifierError, match="check digit"):
        gtin_dl("00614141073468")
    with pytest.raises(IdentifierError, match="13 digits"):
        sgln_dl("061414107346")
    with pytest.raises(IdentifierError, match="not allowed"):
        sgtin_dl("00614141073467", "a b")
    with pytest.raises(IdentifierError, match="18 digits"):
        sscc_dl("1234")


def test_check_digit_on_known_keys() -> None:
    # GS1 General Specifications examples
    assert check_digit("0061414107346") == "7"
    assert check_digit("629104150021") == "3"
    assert check_digit("10614141234567890") == "8"


def test_reference_implementation_agrees_on_conformance_epcs() -> None:
    """The EPC list of the event-hash conformance material, against the reference normaliser."""
    base = maybe_dir()
    if base is None:
        pytest.skip("GS1 conformance material not found (set TXNG_CONFORMANCE_DIR)")
    normaliser = pytest.importorskip("epcis_event_hash_generator.dl_normaliser").normaliser
    path = base / "event-hash" / "tests" / "examples" / "epclist_normalisation.jsonld"
    doc = json.loads(path.read_text(encoding="utf-8"))
    epcs = doc["epcisBody"]["eventList"][0]["epcList"]
    assert len(epcs) > 20
    for epc in epcs:
        assert canonical_id(epc) == normaliser(epc), epc


# ---------------------------------------------------------------------------------------------
# properties

_SERIAL_CHARS = "".join(sorted(set("ABCxyz0189-._'=;!()*+,:\"%&/<>?")))


def _gtin(body: str) -> str:
    return body + check_digit(body)


@st.composite
def sgtin_forms(draw: st.DrawFn) -> tuple[str, str]:
    """An SGTIN as (EPC URN, Digital Link on a random domain)."""
    gcp_len = draw(st.integers(6, 12))
    digits = draw(st.text("0123456789", min_size=13, max_size=13))
    gcp, itemref = digits[1 : 1 + gcp_len], digits[0] + digits[1 + gcp_len :]
    serial = draw(st.text(_SERIAL_CHARS, min_size=1, max_size=20))
    urn_serial = "".join(f"%{ord(c):02X}" if c in '"%&/<>?' else c for c in serial)
    dl_serial = "".join(
        f"%{ord(c):02x}" if c in '"%&/<>?!()*+,:' or draw(st.booleans()) else c for c in serial
    )
    host = draw(st.sampled_from(["id.gs1.org", "example.com", "brand.example.vn:8443"]))
    prefix = draw(st.sampled_from(["", "/p", "/a/b"]))
    query = draw(st.sampled_from(["", "?linkType=all", "?17=251231#x"]))
    gtin = _gtin(digits[:13]).lstrip("0") if draw(st.booleans()) else _gtin(digits[:13])
    if len(gtin) not in (8, 12, 13, 14):
        gtin = gtin.zfill(14)
    urn = f"urn:epc:id:sgtin:{gcp}.{itemref}.{urn_serial}"
    return urn, f"https://{host}{prefix}/01/{gtin}/21/{dl_serial}{query}"


@settings(max_examples=150, deadline=None, database=None)
@given(sgtin_forms())
def test_property_urn_and_digital_link_agree(forms: tuple[str, str]) -> None:
    urn, link = forms
    canonical = canonical_id(urn)
    assert canonical == canonical_id(link)
    assert canonical_id(canonical) == canonical
    assert kind_of(link) == "item"
    # URN -> DL -> URN keeps the company prefix split of the URN
    assert to_epc_urn(urn) == urn
    back = to_epc_urn(link)
    if back is not None:  # known company prefix
        assert canonical_id(back) == canonical


_PREFIXES = st.sampled_from(
    [
        "",
        "urn:epc:id:sgtin:",
        "urn:epc:id:sgtin:0614141.",
        "urn:epc:id:sscc:",
        "urn:epc:class:lgtin:",
        "urn:epc:idpat:sgtin:",
        "urn:epc:id:cpi:0614141.",
        "URN:EPC:ID:SGLN:",
        "https://x.org/01/",
        "https://x.org/01/00614141073467/",
        "http://x/8004/",
        "https://x.org/414/0614141073467/254/",
    ]
)


@settings(max_examples=300, deadline=None, database=None)
@given(_PREFIXES, st.text(max_size=40))
def test_property_any_text_is_handled(prefix: str, rest: str) -> None:
    """Any input gives a string or an IdentifierError, never another exception."""
    value = prefix + rest
    try:
        canonical = canonical_id(value)
    except IdentifierError as exc:
        message = str(exc)
    else:
        message = ""
    if message:  # a malformed GS1 identifier, explained in plain words
        assert kind_of(value) == "other"
        return
    assert isinstance(canonical, str)
    assert canonical_id(canonical) == canonical
    assert kind_of(value) in {
        "item",
        "lot",
        "class",
        "logistic_unit",
        "location",
        "party",
        "asset",
        "other",
    }
    back = to_epc_urn(value)
    if back is not None:
        assert canonical_id(back) == canonical
