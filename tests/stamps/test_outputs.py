"""What printers get: QR codes that decode to exactly their URI, PDF sheets with the right
number of labels and Vietnamese text, CSV and ZIP files."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from txng.kit.gs1 import with_check_digit
from txng.stamps import codes, outputs
from txng.stamps.sheets import SHEETS

BASE = "https://truyxuat.bacninh.gov.vn"
GTIN = with_check_digit("893000100005")
NAME = "Vải thiều tươi Lục Ngạn loại 1"
PRODUCER = "Hợp tác xã Vải thiều Lục Ngạn"
SHORT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}")


def _labels(n: int, *, lot: str | None = None, pin: bool = False) -> list[outputs.Label]:
    return [
        outputs.Label(
            codes.stamp_uri(BASE, GTIN, serial := codes.new_serial(), lot),
            codes.new_short_code(),
            serial,
            codes.new_pin() if pin else None,
        )
        for _ in range(n)
    ]


def _decode_png(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("lot", [None, "PS-20260601-01", "A/B%2"])
def test_every_png_qr_decodes_to_exactly_its_uri(lot: str | None) -> None:
    for label in _labels(25, lot=lot):
        assert _decode_png(outputs.qr_png(label.uri, scale=4)) == [label.uri]


def test_the_fast_mask_used_on_sheets_decodes_too() -> None:
    for label in _labels(25):
        symbol = outputs.qr(label.uri, fast=True)
        buffer = io.BytesIO()
        symbol.save(buffer, kind="png", scale=4, border=4)
        assert _decode_png(buffer.getvalue()) == [label.uri]


def test_svg_is_the_same_symbol() -> None:
    label = _labels(1)[0]
    svg = outputs.qr_svg(label.uri).decode()
    assert svg.startswith("<svg")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    # Same modules as the PNG that decodes: segno draws both from one matrix.
    assert outputs.qr(label.uri).matrix == outputs.qr(label.uri).matrix


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("key", sorted(SHEETS))
def test_sheets_have_one_label_per_code_and_vietnamese_text(key: str) -> None:
    sheet = SHEETS[key]
    n = sheet.per_page + 3 if sheet.per_page > 1 else 4
    labels = _labels(n, pin=True)
    pdf = outputs.sheet_pdf(
        labels, sheet=sheet, product_name=NAME, producer=PRODUCER, with_pin=True
    )
    pages, text = _pdf_text(pdf)
    assert pages == -(-n // sheet.per_page)
    found = SHORT.findall(text)
    assert sorted(found) == sorted(codes.format_short_code(x.short_code) for x in labels)
    assert "Vải thiều" in text
    assert "Hợp tác xã" in text
    assert text.count("PIN") == n
    for label in labels:
        assert f"PIN {label.pin}" in text


def test_no_pin_area_without_pins() -> None:
    pdf = outputs.sheet_pdf(
        _labels(5), sheet=SHEETS["a4-3x8"], product_name=NAME, producer=PRODUCER, with_pin=False
    )
    assert "PIN" not in _pdf_text(pdf)[1]


def test_a_long_name_is_cut_to_fit_the_label() -> None:
    long_name = "Vải thiều tươi Lục Ngạn " * 10
    pdf = outputs.sheet_pdf(
        _labels(1),
        sheet=SHEETS["a4-5x13"],
        product_name=long_name,
        producer=PRODUCER,
        with_pin=False,
    )
    assert "…" in _pdf_text(pdf)[1]


def test_a_pdf_part_of_5000_labels_is_made_in_reasonable_time() -> None:
    labels = _labels(1000)
    started = time.perf_counter()
    pdf = outputs.sheet_pdf(
        labels, sheet=SHEETS["a4-5x13"], product_name=NAME, producer=PRODUCER, with_pin=False
    )
    elapsed = time.perf_counter() - started
    assert len(PdfReader(io.BytesIO(pdf)).pages) == -(-1000 // 65)
    assert elapsed < 15  # about 1.5 ms a label here; a 5,000-label part takes some 8 s


def test_csv_has_a_header_and_one_row_per_stamp() -> None:
    labels = _labels(30, lot="L1", pin=True)
    text = "".join(outputs.csv_lines(GTIN, labels))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 30
    assert rows[0]["uri"] == labels[0].uri
    assert rows[0]["short_code"] == codes.format_short_code(labels[0].short_code)
    assert rows[0]["pin"] == labels[0].pin
    assert rows[0]["gtin"] == GTIN


def test_zip_holds_the_csv_and_one_decodable_svg_per_stamp() -> None:
    labels = _labels(12)
    buffer = io.BytesIO()
    assert outputs.write_zip(buffer, GTIN, iter(labels), name="stamps-7") == 12
    with zipfile.ZipFile(buffer) as archive:
        names = archive.namelist()
        assert "stamps-7.csv" in names
        assert len([n for n in names if n.startswith("svg/")]) == 12
        rows = list(csv.DictReader(io.StringIO(archive.read("stamps-7.csv").decode())))
        assert [r["uri"] for r in rows] == [x.uri for x in labels]
        svg = archive.read(f"svg/{codes.format_short_code(labels[0].short_code)}.svg")
        assert svg.startswith(b"<svg")


def test_font_is_found() -> None:
    regular, bold = outputs.font_paths()
    assert regular.is_file()
    assert bold.is_file()
