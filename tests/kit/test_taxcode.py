import pytest

from txng.kit.taxcode import TaxCodeError, make_tax_code, normalize_tax_code


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0100109106", "0100109106"),
        ("0300588569-001", "0300588569-001"),
        ("0300588569001", "0300588569-001"),
        (" 0100109106 ", "0100109106"),
    ],
)
def test_valid_tax_codes(raw: str, stored: str) -> None:
    assert normalize_tax_code(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", "010010910", "01001091066", "0100109107", "0100109106-01", "01001O9106", "0100109106_001"],
)
def test_invalid_tax_codes(raw: str) -> None:
    with pytest.raises(TaxCodeError):
        normalize_tax_code(raw)


def test_make_tax_code_builds_a_code_that_validates() -> None:
    code = make_tax_code("240000001")
    assert normalize_tax_code(code) == code
