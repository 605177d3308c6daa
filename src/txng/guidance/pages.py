"""Guidance pages: the public list (``/huong-dan``) and the admin's management page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from txng.accounts.roles import Principal
from txng.errors import N_, NotFound, ValidationFailed, field_error
from txng.guidance import service
from txng.guidance.schemas import GuidanceIn
from txng.kit import files
from txng.web.deps import CSRF, DB, DbId, MaybeCaller, PageCaller
from txng.web.forms import field_messages, from_validation_error
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = ("title_vi", "title_en", "description_vi", "description_en", "category", "position")


def _file_response(request: Request, stored: Any) -> Response:
    try:
        path = files.open_path(request.app.state.settings.media_dir, stored.storage_key)
    except FileNotFoundError as exc:
        raise NotFound() from exc
    if not path.is_file():
        raise NotFound()
    return FileResponse(path, media_type=stored.content_type, filename=stored.original_name)


@router.get("/huong-dan")
def guidance(request: Request, caller: MaybeCaller, db: DB) -> Response:
    ctx = {"groups": service.public_documents(db), "CATEGORY_LABELS": service.CATEGORY_LABELS}
    return render(request, "guidance/list.html", ctx)


@router.get("/huong-dan/{document_id}/tep")
def guidance_file(request: Request, document_id: DbId, db: DB) -> Response:
    _, stored = service.public_file(db, document_id=document_id)
    return _file_response(request, stored)


def _admin_page(
    request: Request,
    db: Session,
    caller: Principal,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {
        "rows": service.all_documents(db, actor=caller),
        "CATEGORY_LABELS": service.CATEGORY_LABELS,
        "categories": list(service.CATEGORY_LABELS.items()),
        "errors": errors or {},
        "form": form or {"category": "guide", "position": "0"},
        "done": request.query_params.get("done"),
    }
    return render(request, "guidance/admin.html", ctx, status_code=status_code)


@router.get("/admin/huong-dan")
def guidance_admin(request: Request, caller: PageCaller, db: DB) -> Response:
    return _admin_page(request, db, caller)


@router.post("/admin/huong-dan", dependencies=[CSRF])
async def guidance_create(request: Request, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    values = {k: v for k in TEXT_FIELDS if isinstance(v := form.get(k), str)}
    upload = form.get("file")
    settings = request.app.state.settings
    content, filename = b"", ""
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(settings.max_document_bytes + 1)
        filename = upload.filename
    await form.close()  # the spooled upload file; its bytes are read
    try:
        data = GuidanceIn.model_validate(values)
        if not filename:
            raise field_error("/file", N_("Choose a file"), "missing")
        service.create_document(
            db,
            actor=caller,
            data=data,
            file_data=content,
            filename=filename,
            media_dir=settings.media_dir,
            max_bytes=settings.max_document_bytes,
        )
    except (ValidationError, ValidationFailed) as exc:
        db.rollback()
        failed = from_validation_error(exc) if isinstance(exc, ValidationError) else exc
        errors = field_messages(request.state.locale, failed)
        return _admin_page(request, db, caller, errors=errors, form=values, status_code=422)
    return RedirectResponse("/admin/huong-dan?done=created", status_code=303)


@router.post("/admin/huong-dan/{document_id}/cong-bo", dependencies=[CSRF])
async def guidance_publish(
    request: Request, document_id: DbId, caller: PageCaller, db: DB
) -> Response:
    form = await request.form()
    publish = form.get("published") == "1"
    service.set_published(db, actor=caller, document_id=document_id, published=publish)
    done = "published" if publish else "unpublished"
    return RedirectResponse(f"/admin/huong-dan?done={done}", status_code=303)


@router.post("/admin/huong-dan/{document_id}/thu-tu", dependencies=[CSRF])
async def guidance_order(
    request: Request, document_id: DbId, caller: PageCaller, db: DB
) -> Response:
    """Change the position of a document in its category (titles kept)."""
    form = await request.form()
    doc = service.get_document(db, actor=caller, document_id=document_id)
    raw = form.get("position")
    values: dict[str, Any] = {k: getattr(doc, k) for k in TEXT_FIELDS}
    values["position"] = raw if isinstance(raw, str) else ""
    try:
        service.update_document(
            db, actor=caller, document_id=doc.id, data=GuidanceIn.model_validate(values)
        )
    except ValidationError as exc:
        db.rollback()
        errors = field_messages(request.state.locale, from_validation_error(exc))
        errors = {f"position-{document_id}": errors.get("position", "")}
        return _admin_page(request, db, caller, errors=errors, status_code=422)
    return RedirectResponse("/admin/huong-dan?done=ordered", status_code=303)


@router.get("/admin/huong-dan/{document_id}/tep")
def guidance_admin_file(
    request: Request, document_id: DbId, caller: PageCaller, db: DB
) -> Response:
    _, stored = service.admin_file(db, actor=caller, document_id=document_id)
    return _file_response(request, stored)
