"""RFC 8785 (JCS) canonical JSON, against the RFC's own examples."""

from __future__ import annotations

import pytest

from txng.ledger.canonical import NotCanonicalisable, canonicalize


def test_rfc8785_section_3_2_3_sorting_example() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = [
        "\r",
        "1",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\U0001f600",
        "\ufb33",
    ]
    expected = "{" + ",".join(f'"{k}":"{value[k]}"'.replace("\r", "\\r") for k in keys) + "}"
    assert canonicalize(value) == expected.encode("utf-8")


def test_rfc8785_section_3_2_2_example() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\nA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740991.0, "9007199254740991"),
        (295147905179352830000.0, "295147905179352830000"),
        (-1.5, "-1.5"),
    ],
)
def test_numbers_are_written_as_ecmascript_does(number: float, text: str) -> None:
    assert canonicalize(number) == text.encode()


def test_vietnamese_text_stays_utf8_and_whitespace_is_gone() -> None:
    assert canonicalize({"tên": "Vải thiều Lục Ngạn", "b": [1, 2]}) == (
        '{"b":[1,2],"tên":"Vải thiều Lục Ngạn"}'.encode()
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, {b"x"}, 2**60])
def test_values_json_cannot_carry_are_refused(bad: object) -> None:
    with pytest.raises(NotCanonicalisable):
        canonicalize(bad)
