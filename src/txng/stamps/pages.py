"""Server-rendered stamp pages for enterprises: requests, progress, downloads, activation,
status changes (authorities open the same request page to suspend stamps)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from txng.accounts.roles import Principal
from txng.errors import N_, Conflict, FieldError, NotFound, TxngError, ValidationFailed
from txng.kit.i18n import gettext
from txng.registry import service as registry_service
from txng.stamps import codes, outputs, service
from txng.stamps.api import base_url, progress_of
from txng.stamps.schemas import ActivationIn, StampRequestIn
from txng.stamps.sheets import SHEETS
from txng.web.deps import CSRF, DB, DbId, PageCaller
from txng.web.forms import field_messages, from_validation_error
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
STAMPS_PER_PAGE = 50

REQUEST_STATE_LABELS = {
    "submitted": N_("Awaiting review"),
    "approved": N_("Approved, issuing soon"),
    "issuing": N_("Issuing codes"),
    "issued": N_("Issued"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
    "failed": N_("Issuing failed"),
}
STAMP_STATUS_LABELS = {
    "issued": N_("Not activated"),
    "active": N_("Active"),
    "deactivated": N_("Deactivated"),
    "lost": N_("Reported lost"),
    "suspended": N_("Suspended"),
}
ACTION_LABELS = {
    "deactivate": N_("Deactivate"),
    "lost": N_("Report lost"),
    "suspend": N_("Suspend"),
}
_SPLIT = re.compile(r"[\s,;]+")


def _labels() -> dict[str, Any]:
    return {
        "REQUEST_STATE_LABELS": REQUEST_STATE_LABELS,
        "STAMP_STATUS_LABELS": STAMP_STATUS_LABELS,
        "STAMP_ACTION_LABELS": ACTION_LABELS,
        "SHEETS": SHEETS,
        "SYMBOLS": outputs.SYMBOLS,
        "format_code": codes.format_short_code,
        "PDF_PART": outputs.PDF_PART,
    }


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _messages(request: Request, exc: TxngError, pointer: str) -> dict[str, str]:
    """Field messages for a form: field errors where they point, others next to ``pointer``."""
    if isinstance(exc, ValidationFailed) and exc.errors:
        return field_messages(request.state.locale, exc)
    failed = ValidationFailed(errors=[FieldError(pointer, exc.message, "refused", exc.params)])
    return field_messages(request.state.locale, failed)


def _products(db: Session, caller: Principal) -> list[tuple[str, str]]:
    if caller.organisation_id is None:
        return []
    rows, _ = registry_service.list_products(
        db, actor=caller, organisation_id=caller.organisation_id, per_page=200
    )
    return [(str(p.id), f"{p.name_vi} ({p.gtin})") for p in rows]


# list and new request --------------------------------------------------------------------


@router.get("/my/stamps")
def my_requests(request: Request, caller: PageCaller, db: DB) -> Response:
    rows, total = service.list_requests(db, actor=caller, per_page=200)
    names = {r.product_id: service.product_of(db, actor=caller, request=r).name_vi for r in rows}
    ctx = {**_labels(), "requests": rows, "total": total, "names": names}
    return render(request, "stamps/list.html", ctx)


def _new_form(
    request: Request,
    db: Session,
    caller: Principal,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    ctx = {
        **_labels(),
        "form": form,
        "errors": errors or {},
        "product_options": _products(db, caller),
        "sheet_options": [(k, s.label) for k, s in SHEETS.items()],
        "per_request": settings.stamps_per_request_max,
        "per_day": settings.stamps_per_day_max,
    }
    return render(request, "stamps/new.html", ctx, status_code=status_code)


@router.get("/my/stamps/new")
def new_request(request: Request, caller: PageCaller, db: DB) -> Response:
    if not caller.is_enterprise:
        raise NotFound()
    form = {"product_id": request.query_params.get("product_id", ""), "label_template": "a4-3x8"}
    return _new_form(request, db, caller, form)


@router.post("/my/stamps/new", dependencies=[CSRF])
async def create_request(request: Request, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        "product_id": _text(form, "product_id"),
        "quantity": _text(form, "quantity"),
        "lot": _text(form, "lot") or None,
        "label_template": _text(form, "label_template"),
        "with_pin": form.get("with_pin") == "1",
    }
    settings = request.app.state.settings
    limits = service.Limits(settings.stamps_per_request_max, settings.stamps_per_day_max)
    try:
        try:
            data = StampRequestIn.model_validate(values)
        except ValidationError as exc:
            raise from_validation_error(exc) from exc
        req = service.request_stamps(db, actor=caller, data=data, limits=limits)
    except ValidationFailed as exc:
        db.rollback()
        errors = field_messages(request.state.locale, exc)
        return _new_form(request, db, caller, values, errors, status_code=422)
    return RedirectResponse(f"/my/stamps/{req.id}", status_code=303)


# one request -----------------------------------------------------------------------------


def _detail(
    request: Request,
    db: Session,
    caller: Principal,
    request_id: int,
    *,
    forms: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    req = service.get_request(db, actor=caller, request_id=request_id)
    product = service.product_of(db, actor=caller, request=req)
    try:
        after = max(0, int(request.query_params.get("after", "0")))
    except ValueError:
        after = 0
    stamps = service.stamps_page(
        db, actor=caller, request_id=req.id, after_id=after, limit=STAMPS_PER_PAGE
    )
    base = base_url(request)
    item = service.review_item_of(db, req.id)
    parts = (req.issued_count + outputs.PDF_PART - 1) // outputs.PDF_PART
    ctx = {
        **_labels(),
        "req": req,
        "product": product,
        "review_item": item,
        "progress": progress_of(req),
        "counts": service.status_counts(db, actor=caller, request_id=req.id),
        "stamps": [(s, service.printed_uri(base, s, req.lot)) for s in stamps],
        "next_after": stamps[-1].id if len(stamps) == STAMPS_PER_PAGE else None,
        "parts": range(1, parts + 1),
        "actions": ["suspend"] if not caller.is_enterprise else ["deactivate", "lost"],
        "forms": forms or {"activate": {"mode": "count"}, "status": {}},
        "form_errors": errors or {"activate": {}, "status": {}},
        "done_text": done_message(request.state.locale, request.query_params.get("done")),
        "issuing": req.state in ("approved", "issuing"),
        # Issuing stopped (failed, or the process that ran it ended): offer to continue.
        "stalled": req.state == "failed"
        or (req.state in ("approved", "issuing") and not service.is_issuing_here(req.id)),
    }
    return render(request, "stamps/detail.html", ctx, status_code=status_code)


@router.get("/my/stamps/{request_id}")
def request_detail(request: Request, request_id: DbId, caller: PageCaller, db: DB) -> Response:
    return _detail(request, db, caller, request_id)


@router.get("/my/stamps/{request_id}/progress.json")
def request_progress(request_id: DbId, caller: PageCaller, db: DB) -> dict[str, Any]:
    """The progress bar's data (polled by the request page while the codes are issued)."""
    req = service.get_request(db, actor=caller, request_id=request_id)
    return progress_of(req).model_dump()


@router.post("/my/stamps/{request_id}/resume", dependencies=[CSRF])
def resume(request_id: DbId, caller: PageCaller, db: DB) -> Response:
    service.resume(db, actor=caller, request_id=request_id)
    return RedirectResponse(f"/my/stamps/{request_id}", status_code=303)


def _activation(form: FormData, request_id: int) -> dict[str, Any]:
    mode = _text(form, "mode")
    values: dict[str, Any] = {"lot": _text(form, "lot")}
    if mode == "codes":
        values["codes"] = [c for c in _SPLIT.split(_text(form, "codes")) if c]
    elif mode == "range":
        values["first"] = _text(form, "first")
        values["last"] = _text(form, "last")
    else:
        values["request_id"] = request_id
        values["count"] = _text(form, "count")
    return values


@router.post("/my/stamps/{request_id}/activate", dependencies=[CSRF])
async def activate(request: Request, request_id: DbId, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    values = _activation(form, request_id)
    shown = {k: _text(form, k) for k in ("mode", "lot", "count", "first", "last", "codes")}
    try:
        try:
            data = ActivationIn.model_validate(values)
        except ValidationError as exc:
            raise from_validation_error(exc) from exc
        done = service.activate(db, actor=caller, data=data)
    except (ValidationFailed, NotFound, Conflict) as exc:
        db.rollback()
        errors = _messages(request, exc, "/codes" if shown["mode"] != "count" else "/count")
        return _detail(
            request,
            db,
            caller,
            request_id,
            forms={"activate": shown, "status": {}},
            errors={"activate": errors, "status": {}},
            status_code=422,
        )
    return RedirectResponse(
        f"/my/stamps/{request_id}?done=activated-{len(done.stamps)}", status_code=303
    )


@router.post("/my/stamps/{request_id}/status", dependencies=[CSRF])
async def change_status(request: Request, request_id: DbId, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    shown = {k: _text(form, k) for k in ("action", "codes", "reason")}
    service.get_request(db, actor=caller, request_id=request_id)
    try:
        wanted = [c for c in _SPLIT.split(shown["codes"]) if c]
        if not wanted:
            raise ValidationFailed(
                errors=[FieldError("/codes", N_("This field is required"), "missing")]
            )
        changed = service.change_status(
            db, actor=caller, action=shown["action"], codes_=wanted, reason=shown["reason"]
        )
    except (ValidationFailed, NotFound, Conflict) as exc:
        db.rollback()
        errors = _messages(request, exc, "/codes")
        return _detail(
            request,
            db,
            caller,
            request_id,
            forms={"activate": {"mode": "count"}, "status": shown},
            errors={"activate": {}, "status": errors},
            status_code=422,
        )
    return RedirectResponse(
        f"/my/stamps/{request_id}?done={shown['action']}-{len(changed)}", status_code=303
    )


def done_message(locale: str, done: str | None) -> str | None:
    """The confirmation shown after a redirect (``activated-12`` …)."""
    if not done or "-" not in done:
        return None
    what, _, n = done.partition("-")
    messages = {
        "activated": N_("%(n)s stamps activated."),
        "deactivate": N_("%(n)s stamps deactivated."),
        "lost": N_("%(n)s stamps reported lost."),
        "suspend": N_("%(n)s stamps suspended."),
    }
    if what not in messages or not n.isdigit():
        return None
    return gettext(locale, messages[what], {"n": n})
