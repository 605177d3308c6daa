"""JSON API of stamps: requests, progress, code files and label sheets, activation, status."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.errors import N_, field_error
from txng.models import StampRequest
from txng.stamps import outputs, service
from txng.stamps.schemas import (
    ActivationIn,
    ActivationOut,
    ProgressOut,
    StampOut,
    StampPage,
    StampRequestIn,
    StampRequestOut,
    StatusAction,
    StatusChangeIn,
    StatusChangeOut,
)
from txng.stamps.sheets import SHEETS
from txng.web.deps import DB, ApiCaller, DbId

router = APIRouter(prefix="/api/v1/stamps", tags=["stamps"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]
SymbolChoice = Annotated[
    outputs.Symbol,
    Query(description="The symbol: the QR of the Digital Link, or a GS1 DataMatrix (FNC1)."),
]


def base_url(request: Request) -> str:
    """Where the stamps' Digital Links point: the configured public URL, else this server."""
    configured: str = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def request_out(db: Session, req: StampRequest) -> StampRequestOut:
    out = StampRequestOut.model_validate(req)
    item = service.review_item_of(db, req.id)
    out.review_item_id = item.id if item else None
    return out


def progress_of(req: StampRequest) -> ProgressOut:
    percent = 100 if req.quantity == 0 else int(req.issued_count * 100 / req.quantity)
    return ProgressOut(
        state=req.state, quantity=req.quantity, issued_count=req.issued_count, percent=percent
    )


@router.post("/requests", response_model=StampRequestOut, status_code=201)
def request_stamps(
    body: StampRequestIn, request: Request, caller: ApiCaller, db: DB
) -> StampRequestOut:
    """Request N stamps for one of your products; the request goes to review."""
    settings = request.app.state.settings
    limits = service.Limits(settings.stamps_per_request_max, settings.stamps_per_day_max)
    req = service.request_stamps(db, actor=caller, data=body, limits=limits)
    return request_out(db, req)


@router.get("/requests", response_model=list[StampRequestOut])
def list_requests(
    caller: ApiCaller, db: DB, page: PageNo = 1, per_page: PerPage = 50
) -> list[StampRequestOut]:
    """Your organisation's stamp requests, newest first."""
    rows, _ = service.list_requests(db, actor=caller, page=page, per_page=per_page)
    return [request_out(db, r) for r in rows]


@router.get("/requests/{request_id}", response_model=StampRequestOut)
def get_request(request_id: DbId, caller: ApiCaller, db: DB) -> StampRequestOut:
    return request_out(db, service.get_request(db, actor=caller, request_id=request_id))


@router.get("/requests/{request_id}/progress", response_model=ProgressOut)
def progress(request_id: DbId, caller: ApiCaller, db: DB) -> ProgressOut:
    """How far the issuance of an approved request has come."""
    return progress_of(service.get_request(db, actor=caller, request_id=request_id))


@router.get("/requests/{request_id}/stamps", response_model=StampPage)
def list_stamps(
    request_id: DbId,
    request: Request,
    caller: ApiCaller,
    db: DB,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StampPage:
    """A page of the request's stamps in issue order; pass ``next_after`` as ``after``."""
    req = service.get_request(db, actor=caller, request_id=request_id)
    rows = service.stamps_page(db, actor=caller, request_id=req.id, after_id=after, limit=limit)
    base = base_url(request)
    items = [
        StampOut.model_validate(s).model_copy(update={"uri": service.printed_uri(base, s, req.lot)})
        for s in rows
    ]
    return StampPage(items=items, next_after=rows[-1].id if len(rows) == limit else None)


def _labels(
    request: Request, caller: Principal, request_id: int
) -> tuple[StampRequest, Iterator[outputs.Label]]:
    """The request (checked in the request's session) and its labels, read in a session of
    their own while the response streams."""
    factory = request.app.state.sessionmaker
    with factory() as db:
        req = service.get_request(db, actor=caller, request_id=request_id)
        if req.state != "issued":
            raise field_error(
                "/state", N_("The codes are not issued yet (%(state)s)"), "state", state=req.state
            )
    base = base_url(request)

    def labels() -> Iterator[outputs.Label]:
        with factory() as db:
            for s in service.iter_stamps(db, request_id=req.id):
                yield outputs.Label(
                    service.printed_uri(base, s, req.lot),
                    s.short_code,
                    s.serial,
                    s.pin,
                    s.lot,
                    s.status,
                )

    return req, labels()


def _gtin(request: Request, req: StampRequest) -> str:
    with request.app.state.sessionmaker() as db:
        gtin, _, _ = service.label_text(db, request=req)
        return gtin


@router.get("/requests/{request_id}/codes.csv", response_class=StreamingResponse)
def codes_csv(request_id: DbId, request: Request, caller: ApiCaller) -> StreamingResponse:
    """The codes as CSV (short code, serial, GTIN, lot, PIN, URI, status) for industrial
    printers; streamed."""
    req, labels = _labels(request, caller, request_id)
    return StreamingResponse(
        outputs.csv_lines(_gtin(request, req), labels),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stamps-{req.id}.csv"'},
    )


@router.get("/requests/{request_id}/codes.zip", response_class=StreamingResponse)
def codes_zip(
    request_id: DbId, request: Request, caller: ApiCaller, symbol: SymbolChoice = "qr"
) -> StreamingResponse:
    """The CSV and one SVG per stamp (QR, or GS1 DataMatrix with ``symbol=datamatrix``),
    zipped (built in a temporary file)."""
    req, labels = _labels(request, caller, request_id)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the generator below
    outputs.write_zip(spool, _gtin(request, req), labels, name=f"stamps-{req.id}", symbol=symbol)
    archive = f"stamps-{req.id}" if symbol == "qr" else f"stamps-{req.id}-{symbol}"
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(1 << 16):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{archive}.zip"'},
    )


@router.get("/requests/{request_id}/sheet.pdf", response_class=Response)
def sheet_pdf(
    request_id: DbId,
    request: Request,
    caller: ApiCaller,
    part: Annotated[int, Query(ge=1, le=10_000)] = 1,
    template: str | None = None,
    symbol: SymbolChoice = "qr",
) -> Response:
    """Printable label sheets (PDF), :data:`outputs.PDF_PART` labels per part (``part=1…``),
    with QR codes or (``symbol=datamatrix``) GS1 DataMatrix symbols."""
    req, labels = _labels(request, caller, request_id)
    sheet = SHEETS.get(template or req.label_template)
    if sheet is None:
        raise field_error("/template", N_("Choose one of the options"), "enum")
    with request.app.state.sessionmaker() as db:
        _, name, producer = service.label_text(db, request=req)
    start = (part - 1) * outputs.PDF_PART
    if start >= req.quantity:
        raise field_error("/part", N_("There is no such part"), "range")

    def window() -> Iterator[outputs.Label]:
        for i, label in enumerate(labels):
            if i >= start + outputs.PDF_PART:
                return
            if i >= start:
                yield label

    pdf = outputs.sheet_pdf(
        window(),
        sheet=sheet,
        product_name=name,
        producer=producer,
        with_pin=req.with_pin,
        symbol=symbol,
    )
    suffix = "" if symbol == "qr" else f"-{symbol}"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="stamps-{req.id}-{part}{suffix}.pdf"'},
    )


@router.post("/activations", response_model=ActivationOut, status_code=201)
def activate(body: ActivationIn, caller: ApiCaller, db: DB) -> ActivationOut:
    """Link stamps to a lot (codes, a range, or the next N of a request): an EPCIS
    commissioning event, refused past the lot's declared quantity / units per stamp."""
    done = service.activate(db, actor=caller, data=body)
    return ActivationOut(
        lot=done.lot,
        activated=len(done.stamps),
        event_ids=done.event_ids,
        capture_id=done.capture_id,
        capacity=done.capacity.capacity,
        carried=done.capacity.carried,
    )


@router.post("/status/{action}", response_model=StatusChangeOut)
def change_status(
    action: StatusAction, body: StatusChangeIn, caller: ApiCaller, db: DB
) -> StatusChangeOut:
    """Deactivate or report lost (the owner), or suspend (an authority); a reason is required."""
    stamps = service.change_status(
        db, actor=caller, action=action, codes_=body.codes, reason=body.reason
    )
    return StatusChangeOut(status=service.ACTION_STATUS[action], changed=len(stamps))


@router.get("/{stamp_id}", response_model=StampOut)
def get_stamp(stamp_id: DbId, request: Request, caller: ApiCaller, db: DB) -> StampOut:
    stamp = service.get_stamp(db, actor=caller, stamp_id=stamp_id)
    req = service.get_request(db, actor=caller, request_id=stamp.request_id)
    out = StampOut.model_validate(stamp)
    out.uri = service.printed_uri(base_url(request), stamp, req.lot)
    return out


def _stamp_uri(request: Request, caller: Principal, db: Session, stamp_id: int) -> str:
    stamp = service.get_stamp(db, actor=caller, stamp_id=stamp_id)
    req = service.get_request(db, actor=caller, request_id=stamp.request_id)
    return service.printed_uri(base_url(request), stamp, req.lot)


_SYMBOLS: dict[tuple[str, str], Callable[..., bytes]] = {
    ("qr", "svg"): outputs.qr_svg,
    ("qr", "png"): outputs.qr_png,
    ("datamatrix", "svg"): outputs.datamatrix_svg,
    ("datamatrix", "png"): outputs.datamatrix_png,
}
_MEDIA = {"svg": "image/svg+xml", "png": "image/png"}


def _symbol(
    symbol: str,
    fmt: str,
    request: Request,
    caller: Principal,
    db: Session,
    stamp_id: int,
    **kw: int,
) -> Response:
    image = _SYMBOLS[(symbol, fmt)](_stamp_uri(request, caller, db, stamp_id), **kw)
    return Response(image, media_type=_MEDIA[fmt])


Scale = Annotated[int, Query(ge=1, le=40)]


@router.get("/{stamp_id}/qr.svg", response_class=Response)
def qr_svg(stamp_id: DbId, request: Request, caller: ApiCaller, db: DB) -> Response:
    """The stamp's QR code (SVG)."""
    return _symbol("qr", "svg", request, caller, db, stamp_id)


@router.get("/{stamp_id}/qr.png", response_class=Response)
def qr_png(
    stamp_id: DbId, request: Request, caller: ApiCaller, db: DB, scale: Scale = 8
) -> Response:
    """The stamp's QR code (PNG)."""
    return _symbol("qr", "png", request, caller, db, stamp_id, scale=scale)


@router.get("/{stamp_id}/datamatrix.svg", response_class=Response)
def datamatrix_svg(stamp_id: DbId, request: Request, caller: ApiCaller, db: DB) -> Response:
    """The stamp's GS1 DataMatrix (SVG): (01) GTIN, (10) lot if printed, (21) serial."""
    return _symbol("datamatrix", "svg", request, caller, db, stamp_id)


@router.get("/{stamp_id}/datamatrix.png", response_class=Response)
def datamatrix_png(
    stamp_id: DbId, request: Request, caller: ApiCaller, db: DB, scale: Scale = 8
) -> Response:
    """The stamp's GS1 DataMatrix (PNG): (01) GTIN, (10) lot if printed, (21) serial."""
    return _symbol("datamatrix", "png", request, caller, db, stamp_id, scale=scale)
