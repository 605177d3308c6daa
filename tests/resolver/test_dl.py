"""The strict Digital Link parser: pure, no database."""

from __future__ import annotations

import pytest

from txng.resolver import dl

GTIN = "08930001000018"  # GTIN-14 with a right check digit
GTIN13 = GTIN[1:]
SSCC = "389300010000000019"
GLN = "8930001000018"


def _error(path: str, query: str = "") -> dl.DigitalLinkError:
    with pytest.raises(dl.DigitalLinkError) as caught:
        dl.parse(path, query)
    return caught.value


def test_a_gtin_with_every_qualifier_in_order() -> None:
    link = dl.parse(f"/01/{GTIN}/22/RED/10/VT-0610/21/A1")
    assert (link.key_ai, link.key) == ("01", GTIN)
    assert link.qualifiers == (("22", "RED"), ("10", "VT-0610"), ("21", "A1"))
    assert link.path == f"/01/{GTIN}/22/RED/10/VT-0610/21/A1"
    assert link.ident == f"https://id.gs1.org/01/{GTIN}/21/A1"  # the finest level, as indexed


@pytest.mark.parametrize("gtin", [GTIN13, GTIN, "96385074", "036000291452"])
def test_gtins_of_8_12_13_14_digits_are_padded(gtin: str) -> None:
    assert dl.parse(f"/01/{gtin}").key == gtin.zfill(14)


def test_sscc_and_gln_paths() -> None:
    assert dl.parse(f"/00/{SSCC}").key == SSCC
    link = dl.parse(f"/414/{GLN}/254/KHO-1")
    assert (link.key, link.qualifiers) == (GLN, (("254", "KHO-1"),))


def test_one_trailing_slash_is_tolerated() -> None:
    assert dl.parse(f"/01/{GTIN}/").path == f"/01/{GTIN}"
    assert dl.parse(f"/01/{GTIN}/10/L1/").qualifier("10") == "L1"


def test_percent_encoding_is_decoded_and_reencoded_canonically() -> None:
    link = dl.parse(f"/01/{GTIN}/10/AB%2f12%25")
    assert link.qualifier("10") == "AB/12%"
    assert link.path == f"/01/{GTIN}/10/AB%2F12%25"


def test_data_attributes_in_the_query_and_other_parameters_kept_aside() -> None:
    link = dl.parse(f"/01/{GTIN}/10/L1", "17=261231&linkType=gs1:epcis&utm_source=qr&x")
    assert link.attributes == (("17", "261231"),)
    assert link.param("linkType") == "gs1:epcis"
    assert link.param("utm_source") == "qr"


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        (f"/01/{GTIN[:-1]}9", "", "check_digit"),
        (f"/01/{GTIN13[:-1]}0", "", "check_digit"),
        (f"/00/{SSCC[:-1]}0", "", "check_digit"),
        (f"/414/{GLN[:-1]}0", "", "check_digit"),
        ("/01/89300010000", "", "key_format"),  # 11 digits
        (f"/01/1{GTIN}", "", "key_format"),  # 15 digits
        ("/01/8930001A00018", "", "key_format"),
        (f"/414/{GLN}0", "", "key_format"),
        ("/01/", "", "empty_value"),
        (f"/10/L1/01/{GTIN}", "", "qualifier_before_key"),
        (f"/01/{GTIN}/21/S1/10/L1", "", "qualifier_order"),
        (f"/01/{GTIN}/10/L1/22/RED", "", "qualifier_order"),
        (f"/01/{GTIN}/10/L1/10/L2", "", "repeated"),
        (f"/01/{GTIN}/10//21/x", "", "empty_value"),
        (f"/01/{GTIN}/10", "", "empty_value"),
        (f"/01/{GTIN}//", "", "empty_segment"),
        (f"/01/{GTIN}//10/L1", "", "empty_segment"),
        (f"/01/{GTIN}/10/", "", "empty_value"),
        (f"/01/{GTIN}/17/261231", "", "attribute_in_path"),
        (f"/01/{GTIN}/254/X", "", "not_qualifier"),
        (f"/01/{GTIN}/lot/L1", "", "not_qualifier"),
        (f"/01/{GTIN}/01/{GTIN}", "", "not_qualifier"),
        (f"/00/{SSCC}/10/L1", "", "not_qualifier"),
        (f"/01/{GTIN}/10/L~1", "", "bad_character"),  # ~ is not in set 82
        (f"/01/{GTIN}/10/L%201", "", "bad_character"),  # space
        (f"/01/{GTIN}/10/V%E1%BA%A3i", "", "bad_character"),  # Vietnamese letters
        (f"/01/{GTIN}/10/Vải", "", "bad_character"),
        (f"/01/{GTIN}/10/L%2", "", "bad_escape"),
        (f"/01/{GTIN}/10/L%ZZ1", "", "bad_escape"),
        (f"/01/{GTIN}/10/{'A' * 21}", "", "too_long"),
        (f"/01/{GTIN}", "10=L1", "key_in_query"),
        (f"/01/{GTIN}", "21=S1", "key_in_query"),
        (f"/01/{GTIN}", f"01={GTIN}", "key_in_query"),
        (f"/01/{GTIN}", "17=261231&17=261230", "repeated"),
        (f"/01/{GTIN}", "17=", "empty_value"),
        (f"/01/{GTIN}", "17", "empty_value"),
        (f"/01/{GTIN}", "17=261332", "bad_format"),  # month 13
        (f"/01/{GTIN}", "17=26123", "bad_format"),
        (f"/01/{GTIN}", "3103=abc", "bad_format"),
        (f"/01/{GTIN}", "17=2612%3C1", "bad_format"),
        ("/17/261231", "", "not_digital_link"),
    ],
)
def test_malformed_links_are_refused_with_a_code(path: str, query: str, code: str) -> None:
    error = _error(path, query)
    assert error.code == code
    assert error.pointer == ("/path" if not query else error.pointer)
    assert "%(" in error.message or error.params == {}


def test_the_pointer_of_a_query_error_names_the_parameter() -> None:
    assert _error(f"/01/{GTIN}", "17=991399").pointer == "/query/17"


def test_235_stands_alone_after_a_gtin() -> None:
    assert dl.parse(f"/01/{GTIN}/235/TPX1").qualifier("235") == "TPX1"
    assert _error(f"/01/{GTIN}/10/L1/235/TPX1").code == "not_qualifier"


def test_biip_alone_would_accept_a_wrong_check_digit() -> None:
    from biip.gs1_element_strings import GS1ElementString

    wrong = GTIN[:-1] + "9"
    assert GS1ElementString.extract("01" + wrong).value == wrong  # hence our own check
    assert _error(f"/01/{wrong}").code == "check_digit"
