"""What a printer needs: QR codes and GS1 DataMatrix symbols (SVG, PNG), PDF label sheets, CSV
and ZIP code files.

The QR carries the stamp's Digital Link URI; the GS1 DataMatrix carries the same GTIN, lot and
serial as a GS1 element string (FNC1 first), the GS1 way for a DataMatrix. Its encoder is zint,
through zxing-cpp's writer.

Everything here works on plain values (:class:`Label`) and iterators, so that 100,000 stamps
stream through in bounded memory; only a PDF is built whole, one part of at most
:data:`PDF_PART` labels at a time.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal

import segno
import zxingcpp
from fpdf import FPDF

from txng.errors import N_
from txng.stamps.codes import format_short_code, stamp_elements
from txng.stamps.sheets import Sheet

PDF_PART: Final = 5000  # labels per PDF file
MM: Final = 72 / 25.4
_DEJAVU: Final = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True, slots=True)
class Label:
    uri: str
    short_code: str
    serial: str
    pin: str | None = None
    lot: str | None = None
    status: str = "issued"


# QR codes --------------------------------------------------------------------------------


def qr(uri: str, *, fast: bool = False) -> segno.QRCode:
    """The QR symbol of a stamp (error correction M). ``fast`` fixes the mask pattern instead of
    trying all eight: any mask is valid and decodes the same, at a third of the time."""
    return segno.make_qr(uri, error="m", mask=2 if fast else None)


def qr_svg(uri: str, *, scale: int = 4, fast: bool = False) -> bytes:
    out = io.BytesIO()
    qr(uri, fast=fast).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue()


def qr_png(uri: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(uri).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


# GS1 DataMatrix --------------------------------------------------------------------------

Symbol = Literal["qr", "datamatrix"]
SYMBOLS: Final[dict[str, str]] = {"qr": N_("QR code"), "datamatrix": N_("GS1 DataMatrix")}
DEFAULT_SYMBOL: Final = "qr"
Modules = Sequence[Sequence[bool]]  # rows of modules, True where dark


def datamatrix(uri: str) -> zxingcpp.Barcode:
    """The GS1 DataMatrix of a stamp: FNC1, then (01) GTIN-14, (10) lot if printed, (21) serial
    taken from its Digital Link ``uri``; square, ECC 200, the smallest size that holds them."""
    content = "".join(f"[{ai}]{value}" for ai, value in stamp_elements(uri))
    # forceSquare: left alone, zint picks a rectangular DMRE size (8 × 96) for some long data,
    # which fits no label and which older scanners do not read. Unknown options are ignored
    # silently, and a malformed value aborts the process: the tests check the shape.
    return zxingcpp.create_barcode(
        content, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, forceSquare=True
    )


def datamatrix_modules(uri: str) -> list[list[bool]]:
    """The DataMatrix's modules without quiet zone (one grey pixel each from the encoder)."""
    image = datamatrix(uri).to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape
    pixels = bytes(image)  # type: ignore[call-overload]  # a buffer; the stub does not say
    return [[pixels[r * width + c] < 128 for c in range(width)] for r in range(height)]


def _runs(row: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    c, n = 0, len(row)
    while c < n:
        if row[c]:
            start = c
            while c < n and row[c]:
                c += 1
            yield start, c - start
        else:
            c += 1


def modules_svg(modules: Modules, *, scale: int, border: int) -> bytes:
    """An SVG of the modules: a white background and one path of the dark runs."""
    width, height = len(modules[0]) + 2 * border, len(modules) + 2 * border
    path = "".join(
        f"M{border + start} {border + r}h{length}v1h-{length}z"
        for r, row in enumerate(modules)
        for start, length in _runs(row)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * scale}" '
        f'height="{height * scale}" viewBox="0 0 {width} {height}" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{height}" fill="#fff"/><path fill="#000" d="{path}"/>'
        "</svg>"
    ).encode()


def _padded(modules: Modules, border: int) -> list[list[bool]]:
    """The modules inside a light quiet zone of ``border`` modules."""
    side = [False] * border
    blank = [False] * (len(modules[0]) + 2 * border)
    return [blank] * border + [[*side, *row, *side] for row in modules] + [blank] * border


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def modules_png(modules: Modules, *, scale: int, border: int) -> bytes:
    """A 1-bit greyscale PNG of the modules, ``scale`` pixels a module."""
    rows = _padded(modules, border)
    width, height = len(rows[0]) * scale, len(rows) * scale
    row_bytes = -(-width // 8)
    raw = bytearray()
    for row in rows:
        bits = "".join(("0" if dark else "1") * scale for dark in row).ljust(row_bytes * 8, "0")
        raw += (b"\x00" + int(bits, 2).to_bytes(row_bytes, "big")) * scale  # filter 0: none
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _png_chunk(b"IEND", b"")
    )


def datamatrix_svg(uri: str, *, scale: int = 4) -> bytes:
    return modules_svg(datamatrix_modules(uri), scale=scale, border=2)


def datamatrix_png(uri: str, *, scale: int = 8) -> bytes:
    return modules_png(datamatrix_modules(uri), scale=scale, border=2)


def symbol_svg(symbol: Symbol, uri: str) -> bytes:
    """The stamp's symbol of the chosen kind as SVG (the QR with the fast mask, for files of
    many stamps)."""
    return datamatrix_svg(uri) if symbol == "datamatrix" else qr_svg(uri, fast=True)


def symbol_modules(symbol: Symbol, uri: str) -> list[list[bool]]:
    """The modules of the chosen symbol, with a quiet zone of two modules, for the sheets."""
    if symbol == "datamatrix":
        return _padded(datamatrix_modules(uri), 2)
    return [[bool(m) for m in row] for row in qr(uri, fast=True).matrix_iter(border=2)]


# CSV and ZIP -----------------------------------------------------------------------------

CSV_HEADER: Final = ("short_code", "serial", "gtin", "lot", "pin", "uri", "status")


def csv_lines(gtin: str, labels: Iterable[Label]) -> Iterator[str]:
    """The CSV (UTF-8, comma, header row) of the codes, one line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for label in labels:
        writer.writerow(
            (
                format_short_code(label.short_code),
                label.serial,
                gtin,
                label.lot or "",
                label.pin or "",
                label.uri,
                label.status,
            )
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_zip(
    target: IO[bytes],
    gtin: str,
    labels: Iterable[Label],
    *,
    name: str,
    symbol: Symbol = DEFAULT_SYMBOL,
) -> int:
    """A ZIP of ``{name}.csv`` and one ``svg/{short code}.svg`` per stamp (a QR or a GS1
    DataMatrix, as chosen); returns the count.

    SVGs go into the archive as they come; the CSV is spooled (to disk past 8 MB) and added
    last, so memory stays bounded whatever the number of stamps."""
    count = 0

    def svgs() -> Iterator[Label]:
        nonlocal count
        for label in labels:
            archive.writestr(
                f"svg/{format_short_code(label.short_code)}.svg", symbol_svg(symbol, label.uri)
            )
            count += 1
            yield label

    with (
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool,
    ):
        for chunk in csv_lines(gtin, svgs()):
            spool.write(chunk.encode())
        spool.seek(0)
        with archive.open(f"{name}.csv", "w", force_zip64=True) as entry:
            shutil.copyfileobj(spool, entry)
    return count


# PDF label sheets ------------------------------------------------------------------------


class FontMissing(RuntimeError):
    pass


def font_paths() -> tuple[Path, Path]:
    """A regular and a bold TTF with Vietnamese glyphs: Roboto from the font-roboto package,
    else Debian's DejaVu Sans."""
    spec = importlib.util.find_spec("font_roboto")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "files"
        regular, bold = folder / "Roboto-Regular.ttf", folder / "Roboto-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        return regular, bold
    raise FontMissing(
        "No Unicode font for the label sheets: install the font-roboto package "
        "(a dependency of txng) or Debian's fonts-dejavu-core."
    )


def _wrap(pdf: FPDF, text: str, width: float, max_lines: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if pdf.get_string_width(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


@dataclass(frozen=True)
class _Layout:
    pad: float
    qr: float
    text_x: float
    text_w: float
    name_pt: float
    small_pt: float
    code_pt: float


def _layout(sheet: Sheet) -> _Layout:
    h, w = sheet.label_height, sheet.label_width
    pad = 1.2 if h < 25 else 2.0
    qr_size = min(h - 2 * pad, w * 0.5)
    text_x = pad + qr_size + 1.0
    scale = min(h / 37, w / 70)
    return _Layout(
        pad, qr_size, text_x, w - text_x - pad, 8.5 * scale + 1, 6 * scale + 1, 8 * scale + 1.5
    )


def _draw_symbol(
    pdf: FPDF, modules: Modules, x: float, y: float, size: float, page_h: float
) -> None:
    """A symbol (quiet zone included) as filled rectangles, one per run of dark modules, in one
    path: small and sharp. A module is square; a rectangular symbol is centred vertically."""
    module = size / max(len(modules), len(modules[0]))
    y += (size - module * len(modules)) / 2

    def points(mm: float) -> float:
        # Edges rounded once: neighbouring modules share them, no hairline between rows.
        return round(mm * MM, 2)

    ops: list[str] = ["q 0 g"]
    for r, row in enumerate(modules):
        top, bottom = points(page_h - (y + r * module)), points(page_h - (y + (r + 1) * module))
        for start, length in _runs(row):
            left, right = points(x + start * module), points(x + (start + length) * module)
            ops.append(f"{left:.2f} {bottom:.2f} {right - left:.2f} {top - bottom:.2f} re")
    ops.append("f Q")
    pdf._out("\n".join(ops))


def sheet_pdf(
    labels: Iterable[Label],
    *,
    sheet: Sheet,
    product_name: str,
    producer: str,
    with_pin: bool,
    symbol: Symbol = DEFAULT_SYMBOL,
) -> bytes:
    """One PDF of the labels on the chosen stock; every label: the symbol (QR or GS1
    DataMatrix), product, producer, short code and, when asked, the PIN to hide under a scratch
    layer."""
    regular, bold = font_paths()
    pdf = FPDF(unit="mm", format=(sheet.page_width, sheet.page_height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_compression(True)
    pdf.add_font("label", "", str(regular))
    pdf.add_font("label", "B", str(bold))
    pdf.set_creator("TXNG")
    pdf.set_title(product_name)
    lay = _layout(sheet)
    pdf.set_font("label", "B", lay.name_pt)
    name_lines = _wrap(pdf, product_name, lay.text_w, 2 if sheet.label_height < 25 else 3)
    pdf.set_font("label", "", lay.small_pt)
    producer_lines = _wrap(pdf, producer, lay.text_w, 1 if sheet.label_height < 25 else 2)
    index = 0
    for label in labels:
        slot = index % sheet.per_page
        if slot == 0:
            pdf.add_page()
        x, y = sheet.origin(slot)
        modules = symbol_modules(symbol, label.uri)
        _draw_label(pdf, label, modules, sheet, lay, (x, y), (name_lines, producer_lines), with_pin)
        index += 1
    if index == 0:
        pdf.add_page()
    return bytes(pdf.output())


def _draw_label(
    pdf: FPDF,
    label: Label,
    modules: Modules,
    sheet: Sheet,
    lay: _Layout,
    origin: tuple[float, float],
    text: tuple[list[str], list[str]],
    with_pin: bool,
) -> None:
    x, y = origin
    name_lines, producer_lines = text
    _draw_symbol(pdf, modules, x + lay.pad, y + lay.pad, lay.qr, sheet.page_height)
    tx = x + lay.text_x
    cursor = y + lay.pad + lay.name_pt / MM
    pdf.set_font("label", "B", lay.name_pt)
    for line in name_lines:
        pdf.text(tx, cursor, line)
        cursor += lay.name_pt / MM * 1.15
    pdf.set_font("label", "", lay.small_pt)
    for line in producer_lines:
        pdf.text(tx, cursor, line)
        cursor += lay.small_pt / MM * 1.15
    bottom = y + sheet.label_height - lay.pad
    code_y = bottom - (lay.code_pt / MM * 1.6 if with_pin and label.pin else 0)
    pdf.set_font("label", "B", lay.code_pt)
    pdf.text(tx, code_y, format_short_code(label.short_code))
    if with_pin and label.pin:
        box_h = lay.code_pt / MM * 1.3
        pdf.set_fill_color(225)
        pdf.rect(tx, bottom - box_h + 0.3, lay.text_w, box_h, style="F")
        pdf.set_font("label", "", lay.small_pt)
        pdf.text(tx + 0.6, bottom - 0.4, f"PIN {label.pin}")
