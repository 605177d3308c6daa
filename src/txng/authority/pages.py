"""Authority pages: "Hành động quản lý" (suspend / reinstate, recall lots), the recall register
and the organisations' recall notices (``/thu-hoi``), and the public recall notices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from txng.accounts.roles import Principal
from txng.authority import service
from txng.errors import (
    N_,
    FieldError,
    Forbidden,
    NotFound,
    TxngError,
    ValidationFailed,
    field_error,
)
from txng.recalls import service as recalls_service
from txng.web.deps import CSRF, DB, DbId, MaybeCaller, PageCaller
from txng.web.forms import field_messages, translate
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
RECALL_LINES = 5
ACTIONS = ("suspend", "reinstate")
TARGETS = ("organisation", "product", "stamps")
KIND_LABELS = {
    "lot": N_("Lots"),
    "item": N_("Items"),
    "logistic_unit": N_("Logistic units"),
    "stamp": N_("Stamps"),
    "party": N_("Receiving organisations"),
}
DONE_MESSAGES = {
    "organisation-suspend": N_("The organisation is suspended."),
    "organisation-reinstate": N_("The organisation is reinstated."),
    "product-suspend": N_("The product is suspended."),
    "product-reinstate": N_("The product is reinstated."),
    "stamps-suspend": N_("%(n)s stamps suspended."),
    "stamps-reinstate": N_("%(n)s stamps reinstated."),
    "recalled": N_("%(n)s lots recalled."),
    "lifted": N_("The recall is lifted."),
}


def _text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _labels() -> dict[str, Any]:
    return {
        "SEVERITIES": recalls_service.SEVERITIES,
        "SEVERITY_SHORT": recalls_service.SEVERITY_SHORT,
        "KIND_LABELS": KIND_LABELS,
    }


def _hub(
    request: Request,
    db: Session,
    caller: Principal,
    *,
    target: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    service.check_enforcer(caller)
    done = request.query_params.get("done", "")
    count = request.query_params.get("n", "")
    message = DONE_MESSAGES.get(done)
    ctx = {
        **_labels(),
        "target": target,
        "errors": errors or {},
        "form": form or {},
        "done": message,
        "done_n": int(count) if count.isdigit() else 0,
    }
    return render(request, "authority/actions.html", ctx, status_code=status_code)


@router.get("/quan-ly")
def actions_page(request: Request, caller: PageCaller, db: DB) -> Response:
    return _hub(request, db, caller)


def _reason_errors(request: Request, exc: ValidationFailed) -> dict[str, str]:
    return field_messages(request.state.locale, exc)


@router.post("/quan-ly/dinh-chi/{target}", dependencies=[CSRF])
async def act(request: Request, target: str, caller: PageCaller, db: DB) -> Response:
    """Suspend / reinstate an organisation (by tax code), a product or its stamps (by GTIN)."""
    if target not in TARGETS:
        raise NotFound()
    service.check_enforcer(caller)
    form = await request.form()
    values = {
        name: _text(form, name)
        for name in ("tax_code", "gtin", "codes", "first", "last", "lot", "reason", "action")
    }
    action = values["action"]
    changed = 0
    try:
        if action not in ACTIONS:
            raise field_error("/action", N_("Choose one of the options"), "enum")
        suspend = action == "suspend"
        if target == "organisation":
            org = service.organisation_by_tax_code(db, actor=caller, tax_code=values["tax_code"])
            act_org = service.suspend_organisation if suspend else service.reinstate_organisation
            act_org(db, actor=caller, organisation_id=org.id, reason=values["reason"])
        else:
            try:
                product = service.product_by_gtin(db, actor=caller, gtin=values["gtin"])
            except NotFound as exc:
                raise field_error("/gtin", N_("No product with this GTIN is registered")) from exc
            if target == "product":
                act_product = service.suspend_product if suspend else service.reinstate_product
                act_product(db, actor=caller, product_id=product.id, reason=values["reason"])
            else:
                selection = service.StampSelection(
                    codes=[c for c in values["codes"].replace(",", "\n").splitlines() if c.strip()],
                    first=values["first"],
                    last=values["last"],
                    lot=values["lot"],
                )
                act_stamps = service.suspend_stamps if suspend else service.reinstate_stamps
                result = act_stamps(
                    db,
                    actor=caller,
                    product_id=product.id,
                    selection=selection,
                    reason=values["reason"],
                )
                changed = len(result.changed)
    except ValidationFailed as exc:
        db.rollback()
        return _hub(
            request,
            db,
            caller,
            target=target,
            errors={f"{target}.{k}": v for k, v in _reason_errors(request, exc).items()},
            form={f"{target}.{k}": v for k, v in values.items()},
            status_code=422,
        )
    except TxngError as exc:
        if isinstance(exc, Forbidden):
            raise
        db.rollback()
        message = translate(request.state.locale, _as_field("_form", exc))
        return _hub(
            request,
            db,
            caller,
            target=target,
            errors={f"{target}._form": message},
            form={f"{target}.{k}": v for k, v in values.items()},
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/quan-ly?done={target}-{action}&n={changed}", status_code=303)


def _as_field(pointer: str, exc: TxngError) -> FieldError:
    return FieldError(pointer, exc.message, "conflict", exc.params)


# recalls ---------------------------------------------------------------------------------


def _recall_form_page(
    request: Request,
    caller: Principal,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    lines: int = RECALL_LINES,
    status_code: int = 200,
) -> Response:
    service.check_enforcer(caller)
    ctx = {
        **_labels(),
        "errors": errors or {},
        "form": form or {"severity": "high"},
        "lines": range(lines),
        "severities": list(recalls_service.SEVERITIES.items()),
    }
    return render(request, "authority/recall_form.html", ctx, status_code=status_code)


@router.get("/quan-ly/thu-hoi/moi")
def new_recall(request: Request, caller: PageCaller) -> Response:
    return _recall_form_page(request, caller)


@router.post("/quan-ly/thu-hoi", dependencies=[CSRF])
async def create_recall(request: Request, caller: PageCaller, db: DB) -> Response:
    """Recall the filled lines (blank lines are ignored; errors point at their line)."""
    service.check_enforcer(caller)
    form = await request.form()
    values = {
        name: _text(form, name)
        for name in ("reason", "severity", "instructions_vi", "instructions_en")
    }
    raw_lines = [
        (i, _text(form, f"gtin_{i}", 14), _text(form, f"lot_{i}", 20)) for i in range(RECALL_LINES)
    ]
    filled = [(i, g, lot) for i, g, lot in raw_lines if g.strip() or lot.strip()]
    for i, g, lot in raw_lines:
        values[f"gtin_{i}"], values[f"lot_{i}"] = g, lot
    try:
        issued = recalls_service.recall_lots(
            db,
            actor=caller,
            lines=[recalls_service.RecallLine(g, lot) for _, g, lot in filled],
            reason=values["reason"],
            severity=values["severity"],
            instructions_vi=values["instructions_vi"],
            instructions_en=values["instructions_en"],
        )
    except ValidationFailed as exc:
        db.rollback()
        errors: dict[str, str] = {}
        for key, message in field_messages(request.state.locale, exc).items():
            parts = key.split(".")
            if parts[0] == "lots" and len(parts) == 3 and parts[1].isdigit():
                # the n-th filled line is the form's line filled[n]
                line = filled[int(parts[1])][0] if int(parts[1]) < len(filled) else 0
                key = f"{parts[2]}_{line}"
            elif key == "lots":
                key = "gtin_0"
            errors.setdefault(key, message)
        return _recall_form_page(request, caller, errors=errors, form=values, status_code=422)
    return RedirectResponse(f"/thu-hoi?done=recalled&n={len(issued)}", status_code=303)


@router.get("/thu-hoi")
def recall_register(request: Request, caller: PageCaller, db: DB) -> Response:
    """The authority's register of recalls, or an organisation's recall notices."""
    authority = service.is_enforcer(caller)
    rows = (
        recalls_service.list_recalls(db, actor=caller)
        if authority
        else recalls_service.notices_for(db, actor=caller)
    )
    done = request.query_params.get("done", "")
    count = request.query_params.get("n", "")
    ctx = {
        **_labels(),
        "rows": rows,
        "authority": authority,
        "done": DONE_MESSAGES.get(done),
        "done_n": int(count) if count.isdigit() else 0,
    }
    return render(request, "authority/recalls.html", ctx)


def _recall_page(
    request: Request,
    db: Session,
    caller: Principal,
    recall_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    recall = recalls_service.get_recall(db, actor=caller, recall_id=recall_id)
    targets = recalls_service.targets_of(db, actor=caller, recall_id=recall.id)
    ctx = {
        **_labels(),
        "recall": recall,
        "targets": targets,
        "authority": service.is_enforcer(caller),
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "authority/recall.html", ctx, status_code=status_code)


@router.get("/thu-hoi/{recall_id}")
def recall_detail(request: Request, recall_id: DbId, caller: PageCaller, db: DB) -> Response:
    return _recall_page(request, db, caller, recall_id)


@router.post("/thu-hoi/{recall_id}/go-bo", dependencies=[CSRF])
async def lift(request: Request, recall_id: DbId, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    reason = _text(form, "reason")
    try:
        recalls_service.lift_recall(db, actor=caller, recall_id=recall_id, reason=reason)
    except ValidationFailed as exc:
        db.rollback()
        errors = field_messages(request.state.locale, exc)
        return _recall_page(
            request, db, caller, recall_id, errors=errors, form={"reason": reason}, status_code=422
        )
    return RedirectResponse("/thu-hoi?done=lifted", status_code=303)


@router.get("/thu-hoi-san-pham")
def public_recalls(request: Request, caller: MaybeCaller, db: DB) -> Response:
    """Public recall notices: active recalls, with only published product facts."""
    ctx = {**_labels(), "recalls": recalls_service.public_recalls(db)}
    return render(request, "authority/public_recalls.html", ctx)
