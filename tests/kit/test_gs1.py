import pytest
from hypothesis import given
from hypothesis import strategies as st

from txng.kit.gs1 import GS1KeyError, check_digit, normalize_gln, normalize_gtin, with_check_digit


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("8934567000017", "08934567000017"),  # GTIN-13 from GS1 Vietnam's 893 range
        ("18934567000014", "18934567000014"),  # GTIN-14 of a case
        (" 8934567000017 ", "08934567000017"),
    ],
)
def test_gtins_of_every_length_are_stored_as_gtin14(raw: str, gtin14: str) -> None:
    assert normalize_gtin(raw) == gtin14


def test_wrong_check_digit_names_the_expected_digit() -> None:
    with pytest.raises(GS1KeyError) as err:
        normalize_gtin("8934567000018")
    assert err.value.params == {"expected": 7}


@pytest.mark.parametrize("raw", ["", "12345", "89345670000171", "893456700001A", "123456789012345"])
def test_malformed_gtins_are_refused(raw: str) -> None:
    with pytest.raises(GS1KeyError):
        normalize_gtin(raw)


def test_gln_check_digit() -> None:
    assert normalize_gln("8934567000000") == "8934567000000"
    with pytest.raises(GS1KeyError) as err:
        normalize_gln("8934567000001")
    assert err.value.params == {"expected": 0}
    with pytest.raises(GS1KeyError):
        normalize_gln("893456700000")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_payload_with_its_check_digit_is_a_valid_gtin13(payload: str) -> None:
    full = with_check_digit(payload)
    assert normalize_gtin(full) == "0" + full
    wrong = payload + str((check_digit(payload) + 1) % 10)
    with pytest.raises(GS1KeyError):
        normalize_gtin(wrong)
