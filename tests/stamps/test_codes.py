"""Stamp codes without a database: alphabet, entropy, check symbol, Digital Link round trip."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txng.epcis.identifiers import IdentifierError
from txng.kit.gs1 import with_check_digit
from txng.resolver import dl
from txng.stamps import codes

BASE = "https://truyxuat.bacninh.gov.vn"
GTINS = st.from_regex(r"\A89[0-9]{10}\Z").map(with_check_digit)
# GS1 AI 10 values: character set 82, 1 to 20 characters.
LOTS = st.text(
    alphabet=string.ascii_letters + string.digits + "-./_!'()*+,:;=%&<>?\"", min_size=1, max_size=20
)


def test_serials_are_65_bits_of_print_safe_symbols() -> None:
    serials = {codes.new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert codes.SERIAL_BITS >= 60
    for serial in serials:
        assert len(serial) == codes.SERIAL_LENGTH
        assert not set(serial) & set("ILOU")
        assert set(serial) <= set(string.ascii_uppercase + string.digits)


def test_short_codes_carry_a_check_symbol_that_catches_typos() -> None:
    code = codes.new_short_code()
    assert codes.is_short_code(code)
    assert len(codes.format_short_code(code)) == 12
    assert codes.format_short_code(code)[4] == "-"
    assert codes.normalize_code(codes.format_short_code(code).lower()) == code
    for i in range(len(code)):
        for other in codes.ALPHABET:
            if other != code[i]:
                typo = code[:i] + other + code[i + 1 :]
                assert not codes.is_short_code(typo), typo


def test_look_alike_letters_are_read_as_the_digits_they_resemble() -> None:
    assert codes.normalize_code("o1-il u") == "0111V"


@given(gtin=GTINS, lot=st.none() | LOTS)
def test_digital_link_build_then_parse_round_trips(gtin: str, lot: str | None) -> None:
    serial = codes.new_serial()
    uri = codes.stamp_uri(BASE + "/", gtin, serial, lot)
    assert uri.startswith(BASE + "/01/")
    parsed = dl.parse(uri[len(BASE) :])
    assert parsed.key == gtin.zfill(14)
    assert parsed.qualifier("21") == serial
    assert parsed.qualifier("10") == lot
    assert codes.stamp_uri(BASE, parsed.key, serial, lot) == uri


def test_a_wrong_gtin_or_lot_is_refused() -> None:
    with pytest.raises(IdentifierError):
        codes.stamp_uri(BASE, "8930001000017", codes.new_serial())
    with pytest.raises(IdentifierError):
        codes.stamp_uri(BASE, with_check_digit("893000100001"), codes.new_serial(), "lô 1")


def test_the_uri_has_the_documented_shape() -> None:
    gtin = with_check_digit("893000100001")
    assert codes.stamp_uri(BASE, gtin, "ABC123", "L1") == f"{BASE}/01/0{gtin}/10/L1/21/ABC123"
    assert codes.stamp_uri(BASE, gtin, "ABC123") == f"{BASE}/01/0{gtin}/21/ABC123"
