"""Server-rendered review pages: the reviewer's queue, one item with its diff and decision form,
and the enterprise's "submit for review" button."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.errors import N_, ValidationFailed, field_error
from txng.review import service
from txng.review.state import ACTION_LABELS, NEEDS_REASON, STATE_LABELS, Action, State
from txng.web.deps import CSRF, DB, DbId, PageCaller
from txng.web.forms import field_messages
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 50

ENTITY_LABELS = {
    "organisation": N_("Organisation profile"),
    "facility": N_("Facility"),
    "product": N_("Product"),
    "event_batch": N_("Event batch"),
    "stamp_request": N_("Stamp request"),
}


def _labels() -> dict[str, Any]:
    return {
        "STATE_LABELS": {s.value: label for s, label in STATE_LABELS.items()},
        "ACTION_LABELS": {a.value: label for a, label in ACTION_LABELS.items()},
        "ENTITY_LABELS": ENTITY_LABELS,
        "NEEDS_REASON": {a.value for a in NEEDS_REASON},
    }


def _choice(value: str | None, allowed: Any) -> str | None:
    return value if value in allowed else None


@router.get("/review")
def review_queue(request: Request, caller: PageCaller, db: DB) -> Response:
    params = request.query_params
    entity_type = _choice(params.get("entity_type"), ENTITY_LABELS)
    raw_state = params.get("state", State.SUBMITTED.value)
    state = _choice(raw_state, {s.value for s in State})
    try:
        page = max(1, min(int(params.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1
    found = service.queue(
        db, actor=caller, entity_type=entity_type, state=state, page=page, per_page=PER_PAGE
    )
    ctx = {
        **_labels(),
        "queue": found,
        "entity_type": entity_type or "",
        "state": state or "all",
        "page": page,
        "pages": max(1, -(-found.total // PER_PAGE)),
        "bulk": {
            "approved": params.get("approved"),
            "failed": params.get("failed"),
        },
    }
    return render(request, "review/queue.html", ctx)


def _item_page(
    request: Request,
    db: Session,
    caller: Principal,
    item_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = service.item_detail(db, actor=caller, item_id=item_id)
    ctx = {
        **_labels(),
        "detail": detail,
        "item": detail.item,
        "actions": [a.value for a in detail.actions],
        "errors": errors or {},
        "form": form or {},
        "done": request.query_params.get("done"),
    }
    return render(request, "review/item.html", ctx, status_code=status_code)


@router.get("/review/items/{item_id}")
def review_item(request: Request, item_id: DbId, caller: PageCaller, db: DB) -> Response:
    return _item_page(request, db, caller, item_id)


@router.post("/review/items/{item_id}/decision", dependencies=[CSRF])
async def decide(request: Request, item_id: DbId, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    raw_action = form.get("action")
    reason = form.get("reason")
    reason_text = reason if isinstance(reason, str) else ""
    try:
        if raw_action not in {a.value for a in Action}:
            raise field_error("/action", N_("Choose one of the options"), "enum")
        action = Action(str(raw_action))
        service.decide(db, actor=caller, item_id=item_id, action=action, reason=reason_text)
    except ValidationFailed as exc:
        db.rollback()
        errors = field_messages(request.state.locale, exc)
        return _item_page(
            request,
            db,
            caller,
            item_id,
            errors=errors,
            form={"reason": reason_text},
            status_code=422,
        )
    return RedirectResponse(f"/review/items/{item_id}?done={action.value}", status_code=303)


@router.post("/review/items/{item_id}/comments", dependencies=[CSRF])
async def comment(request: Request, item_id: DbId, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    body = form.get("body")
    text = body if isinstance(body, str) else ""
    try:
        service.add_comment(db, actor=caller, item_id=item_id, body=text[:4000])
    except ValidationFailed as exc:
        errors = field_messages(request.state.locale, exc)
        return _item_page(
            request, db, caller, item_id, errors=errors, form={"body": text}, status_code=422
        )
    return RedirectResponse(f"/review/items/{item_id}#comments", status_code=303)


@router.post("/review/bulk-approve", dependencies=[CSRF])
async def bulk_approve(request: Request, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()][:200]
    results = service.bulk_approve(db, actor=caller, item_ids=ids)
    approved = sum(1 for r in results if r.ok)
    return RedirectResponse(
        f"/review?approved={approved}&failed={len(results) - approved}", status_code=303
    )


@router.post("/review/products/{product_id}/submit", dependencies=[CSRF])
def submit_product(product_id: DbId, caller: PageCaller, db: DB) -> Response:
    """The enterprise's "submit for review" button on its product page."""
    item = service.submit_product(db, actor=caller, product_id=product_id)
    return RedirectResponse(f"/review/items/{item.id}", status_code=303)


@router.post("/review/organisations/{organisation_id}/submit", dependencies=[CSRF])
def submit_organisation(organisation_id: DbId, caller: PageCaller, db: DB) -> Response:
    item = service.submit_organisation(db, actor=caller, organisation_id=organisation_id)
    return RedirectResponse(f"/review/items/{item.id}", status_code=303)
