"""The GS1 DataMatrix choice: every symbol we make (PNG, SVG, on the PDF sheets, in the ZIP, from
the API) reads back with zxing-cpp as GS1 (symbology identifier ]d2, FNC1 first) with exactly the
stamp's (01) GTIN-14, (10) printed lot and (21) serial; QR stays the default everywhere."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from biip.gs1_messages import GS1Message
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree
from PIL import Image, ImageDraw
from pypdf import PdfReader

import factories as f
from txng.kit.gs1 import with_check_digit
from txng.resolver import dl
from txng.stamps import codes, outputs
from txng.stamps.sheets import SHEETS

if TYPE_CHECKING:
    from conftest import World  # the fixture of tests/stamps/conftest.py

BASE = "https://truyxuat.bacninh.gov.vn"
GTIN = with_check_digit("893000100005")
GTIN14 = "0" + GTIN
SHORT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}")
GS = "\x1d"
# Lots of character set 82 with the characters that a careless encoder gets wrong: the ones that
# need escaping in a URI, parentheses (the HRI's delimiters) and a full 20 characters.
LOTS = [None, "PS-20260601-01", "A/B%2", "L(7)+x&y", "ABCDEFGHIJ0123456789"]


def _label(lot: str | None = None) -> outputs.Label:
    serial = codes.new_serial()
    return outputs.Label(codes.stamp_uri(BASE, GTIN, serial, lot), codes.new_short_code(), serial)


def _expected(serial: str, lot: str | None, gtin14: str = GTIN14) -> tuple[str, bytes]:
    """What a scanner reports: the HRI text and the raw data with a GS after a variable-length
    field that is not the last one."""
    text = f"(01){gtin14}" + (f"(10){lot}" if lot else "") + f"(21){serial}"
    raw = f"01{gtin14}" + (f"10{lot}{GS}" if lot else "") + f"21{serial}"
    return text, raw.encode()


def _read(image: Image.Image) -> list[zxingcpp.Barcode]:
    return list(zxingcpp.read_barcodes(image))


def _assert_gs1(
    found: list[zxingcpp.Barcode], serial: str, lot: str | None, gtin14: str = GTIN14
) -> None:
    assert len(found) == 1
    barcode = found[0]
    text, raw = _expected(serial, lot, gtin14)
    assert barcode.format == zxingcpp.BarcodeFormat.DataMatrix
    assert barcode.symbology_identifier == "]d2"  # FNC1 in first position: GS1 DataMatrix
    assert barcode.content_type == zxingcpp.ContentType.GS1
    assert barcode.text == text
    assert barcode.bytes == raw
    # An independent GS1 parser reads the same three fields.
    message = GS1Message.parse(barcode.bytes.decode())
    fields = [(e.ai.ai, e.value) for e in message.element_strings]
    assert fields == [("01", gtin14), *([("10", lot)] if lot else []), ("21", serial)]


def _png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _rasterise_svg(svg: bytes, scale: int = 4) -> Image.Image:
    """Draw our SVG (a white rect and one path of ``Mx yhWv1h-Wz`` runs) to an image, checking
    on the way that it is well-formed SVG whose drawing is all covered by the regex."""
    root = etree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _, _, width, height = (int(v) for v in root.get("viewBox", "").split())
    assert (int(root.get("width", "")), int(root.get("height", ""))) == (4 * width, 4 * height)
    ns = {"s": "http://www.w3.org/2000/svg"}
    background = root.find("s:rect", ns)
    assert background is not None
    assert background.get("fill") == "#fff"
    path = root.find("s:path", ns)
    assert path is not None
    d = path.get("d", "")
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d)
    assert "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in runs) == d
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in runs:
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(w) * scale - 1, top + scale - 1), fill=0)
    return image


@pytest.mark.parametrize("lot", LOTS)
def test_element_string_is_read_back_from_the_digital_link(lot: str | None) -> None:
    label = _label(lot)
    assert codes.element_string(label.uri) == _expected(label.serial, lot)[0]
    assert codes.stamp_elements(label.uri)[0] == ("01", GTIN14)


def test_a_base_url_with_a_path_and_an_eight_digit_gtin() -> None:
    gtin8 = with_check_digit("9638507")
    uri = codes.stamp_uri("https://example.vn/tx/01/x", gtin8, "ABC", "01")
    assert codes.element_string(uri) == f"(01)000000{gtin8}(10)01(21)ABC"


def test_what_is_not_a_stamp_link_is_refused() -> None:
    with pytest.raises(ValueError, match="Digital Link"):
        codes.stamp_elements("https://example.vn/products/7")


@pytest.mark.parametrize("lot", LOTS)
def test_every_png_datamatrix_decodes_as_gs1_to_exactly_its_data(lot: str | None) -> None:
    for _ in range(10):
        label = _label(lot)
        png = outputs.datamatrix_png(label.uri, scale=4)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        _assert_gs1(_read(_png(png)), label.serial, lot)


@pytest.mark.parametrize("lot", LOTS)
def test_every_svg_datamatrix_decodes_as_gs1_to_exactly_its_data(lot: str | None) -> None:
    for _ in range(10):
        label = _label(lot)
        svg = outputs.datamatrix_svg(label.uri)
        assert svg.startswith(b"<svg")
        _assert_gs1(_read(_rasterise_svg(svg)), label.serial, lot)


@pytest.mark.parametrize("lot", LOTS)
def test_the_symbol_is_square_whatever_the_data(lot: str | None) -> None:
    for _ in range(20):
        modules = outputs.datamatrix_modules(_label(lot).uri)
        assert len(modules) == len(modules[0])
        assert len(modules) in (18, 20, 22, 24, 26, 32)  # ECC 200 sizes for 20 to 62 codewords


def test_png_and_svg_are_the_same_symbol_with_a_quiet_zone() -> None:
    label = _label("L1")
    modules = outputs.datamatrix_modules(label.uri)
    png = _png(outputs.datamatrix_png(label.uri, scale=1)).convert("L")
    assert png.size == (len(modules[0]) + 4, len(modules) + 4)
    svg = _rasterise_svg(outputs.datamatrix_svg(label.uri), scale=1)
    assert png.tobytes() == svg.tobytes()
    border = [png.getpixel((x, y)) for x in range(png.width) for y in (0, 1)]
    assert set(border) == {255}


def test_qr_stays_the_default_symbol() -> None:
    label = _label()
    assert outputs.DEFAULT_SYMBOL == "qr"
    qr = _png(outputs.qr_png(label.uri, scale=4))
    assert [r.text for r in zxingcpp.read_barcodes(qr)] == [label.uri]
    assert outputs.symbol_svg("qr", label.uri) == outputs.qr_svg(label.uri, fast=True)


def _pdf_symbols(data: bytes, page: int = 0, scale: float = 8) -> list[Image.Image]:
    """Each symbol the sheet draws (a ``q 0 g … re … f Q`` path) as an image of its own."""
    reader = PdfReader(io.BytesIO(data))
    content = reader.pages[page].get_contents()
    assert content is not None
    stream = content.get_data().decode("latin-1")
    images = []
    for block in re.findall(r"q 0 g\n(.*?)\nf Q", stream, flags=re.S):
        rects = [tuple(map(float, m)) for m in re.findall(r"(\S+) (\S+) (\S+) (\S+) re", block)]
        left = min(r[0] for r in rects)
        bottom = min(r[1] for r in rects)
        right = max(r[0] + r[2] for r in rects)
        top = max(r[1] + r[3] for r in rects)
        margin = 4.0
        size = (
            round((right - left + 2 * margin) * scale),
            round((top - bottom + 2 * margin) * scale),
        )
        image = Image.new("L", size, 255)
        draw = ImageDraw.Draw(image)
        for x, y, w, h in rects:
            x0, x1 = round((x - left + margin) * scale), round((x + w - left + margin) * scale)
            y0, y1 = round((top - y - h + margin) * scale), round((top - y + margin) * scale)
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
        images.append(image)
    return images


@pytest.mark.parametrize("key", sorted(SHEETS))
def test_sheets_with_datamatrix_have_one_decodable_symbol_per_label(key: str) -> None:
    sheet = SHEETS[key]
    n = sheet.per_page + 3 if sheet.per_page > 1 else 4
    labels = [_label("PS-20260601-01") for _ in range(n)]
    pdf = outputs.sheet_pdf(
        labels,
        sheet=sheet,
        product_name="Vải thiều tươi Lục Ngạn",
        producer="Hợp tác xã Vải thiều Lục Ngạn",
        with_pin=False,
        symbol="datamatrix",
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == -(-n // sheet.per_page)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert sorted(SHORT.findall(text)) == sorted(
        codes.format_short_code(x.short_code) for x in labels
    )
    symbols = _pdf_symbols(pdf)
    assert len(symbols) == min(n, sheet.per_page)
    for image, label in zip(symbols, labels, strict=False):
        _assert_gs1(_read(image), label.serial, "PS-20260601-01")


def test_the_default_sheet_still_prints_qr_codes() -> None:
    labels = [_label() for _ in range(3)]
    pdf = outputs.sheet_pdf(
        labels, sheet=SHEETS["a4-3x8"], product_name="Mì Chũ", producer="HTX", with_pin=False
    )
    symbols = _pdf_symbols(pdf)
    assert [[r.text for r in zxingcpp.read_barcodes(s)] for s in symbols] == [
        [x.uri] for x in labels
    ]


def test_zip_with_datamatrix_holds_one_gs1_svg_per_stamp() -> None:
    labels = [_label("L(7)") for _ in range(6)]
    buffer = io.BytesIO()
    assert outputs.write_zip(buffer, GTIN, iter(labels), name="s", symbol="datamatrix") == 6
    with zipfile.ZipFile(buffer) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["s.csv", *(f"svg/{codes.format_short_code(x.short_code)}.svg" for x in labels)]
        )
        for label in labels:
            svg = archive.read(f"svg/{codes.format_short_code(label.short_code)}.svg")
            _assert_gs1(_read(_rasterise_svg(svg)), label.serial, "L(7)")


# Through HTTP, on both databases -------------------------------------------------------------


def _stamps(client: TestClient, key: str, request_id: int) -> list[dict[str, str]]:
    response = client.get(f"/api/v1/stamps/requests/{request_id}/stamps", headers=f.bearer(key))
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


def test_api_offers_the_datamatrix_wherever_it_offers_the_qr(
    client: TestClient, app: FastAPI, world: World
) -> None:
    lot = "PS/2026(06)"
    request_id = world.issued(30, lot=lot, label_template="a4-4x10")
    world.db.commit()
    key = world.ent.key
    stamps = _stamps(client, key, request_id)
    assert len(stamps) == 30
    stamp = stamps[0]
    link = dl.parse(stamp["uri"].removeprefix("http://testserver"))
    assert (link.qualifier("10"), link.qualifier("21")) == (lot, stamp["serial"])
    assert link.key.endswith(world.product.gtin)

    png = client.get(f"/api/v1/stamps/{stamp['id']}/datamatrix.png?scale=4", headers=f.bearer(key))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    found = _read(_png(png.content))
    assert [r.text for r in found] == [_expected(stamp["serial"], lot, link.key)[0]]
    assert found[0].symbology_identifier == "]d2"
    assert found[0].content_type == zxingcpp.ContentType.GS1

    svg = client.get(f"/api/v1/stamps/{stamp['id']}/datamatrix.svg", headers=f.bearer(key))
    assert svg.headers["content-type"] == "image/svg+xml"
    found = _read(_rasterise_svg(svg.content))
    assert [(r.text, r.symbology_identifier) for r in found] == [
        (_expected(stamp["serial"], lot, link.key)[0], "]d2")
    ]

    sheet = client.get(
        f"/api/v1/stamps/requests/{request_id}/sheet.pdf?symbol=datamatrix", headers=f.bearer(key)
    )
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(sheet.content))
    assert len(reader.pages) == 1  # 30 labels on a 4 × 10 sheet
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(SHORT.findall(text)) == 30
    symbols = _pdf_symbols(sheet.content)
    assert len(symbols) == 30
    decoded = [r.text for image in symbols for r in _read(image)]
    assert decoded == [_expected(s["serial"], lot, link.key)[0] for s in stamps]

    archive = client.get(
        f"/api/v1/stamps/requests/{request_id}/codes.zip?symbol=datamatrix", headers=f.bearer(key)
    )
    assert archive.status_code == 200
    assert "datamatrix" in archive.headers["content-disposition"]
    by_code = {codes.format_short_code(s["short_code"]): s for s in stamps}
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        svgs = [n for n in z.namelist() if n.endswith(".svg")]
        assert len(svgs) == 30
        name = svgs[0]
        found = _read(_rasterise_svg(z.read(name)))
        serial = by_code[name.removeprefix("svg/").removesuffix(".svg")]["serial"]
        assert [r.text for r in found] == [_expected(serial, lot, link.key)[0]]

    for path in (
        f"/api/v1/stamps/requests/{request_id}/sheet.pdf?symbol=aztec",
        f"/api/v1/stamps/requests/{request_id}/codes.zip?symbol=aztec",
    ):
        assert client.get(path, headers=f.bearer(key)).status_code == 422, path
    # Without a choice, the sheet still carries QR codes of the Digital Links.
    default = client.get(f"/api/v1/stamps/requests/{request_id}/sheet.pdf", headers=f.bearer(key))
    first = _pdf_symbols(default.content)[0]
    assert [r.text for r in zxingcpp.read_barcodes(first)] == [stamp["uri"]]


def test_another_enterprise_gets_404_for_the_datamatrix(client: TestClient, world: World) -> None:
    request_id = world.issued(2)
    world.db.commit()
    stamps = _stamps(client, world.ent.key, request_id)
    for path in (
        f"/api/v1/stamps/{stamps[0]['id']}/datamatrix.png",
        f"/api/v1/stamps/{stamps[0]['id']}/datamatrix.svg",
        f"/api/v1/stamps/requests/{request_id}/sheet.pdf?symbol=datamatrix",
        f"/api/v1/stamps/requests/{request_id}/codes.zip?symbol=datamatrix",
    ):
        assert client.get(path, headers=f.bearer(world.other.key)).status_code == 404, path


def test_the_request_page_offers_datamatrix_downloads(client: TestClient, world: World) -> None:
    request_id = world.issued(3)
    world.db.commit()
    f.login(client, world.ent.admin.email)
    page = client.get(f"/my/stamps/{request_id}").text
    stamps = _stamps(client, world.ent.key, request_id)
    assert f"/api/v1/stamps/requests/{request_id}/sheet.pdf?part=1&amp;symbol=datamatrix" in page
    assert f"/api/v1/stamps/requests/{request_id}/codes.zip?symbol=datamatrix" in page
    for stamp in stamps:
        assert f"/api/v1/stamps/{stamp['id']}/datamatrix.svg" in page
        assert f"/api/v1/stamps/{stamp['id']}/datamatrix.png" in page
        assert f"/api/v1/stamps/{stamp['id']}/qr.svg" in page
