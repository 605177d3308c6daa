"""Diary pages for enterprise users: the list, the activity tiles, one form per activity, an
entry and its correction. Every page works without JavaScript; ``diary.js`` adds the queue that
keeps entries on the phone while there is no signal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from txng.accounts.roles import Principal
from txng.diary import activities as act
from txng.diary import forms, service
from txng.errors import NotFound, ValidationFailed
from txng.kit import files
from txng.kit.i18n import DISPLAY_TZ
from txng.web.deps import CSRF, DB, DbId, PageCaller
from txng.web.forms import field_messages
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
CHIP_LIMIT = 8  # up to this many choices are tappable chips, more become a drop-down list


async def _read(request: Request) -> tuple[dict[str, str], service.Photo | None]:
    """The form's text fields and its photo; the uploaded file is closed at once."""
    form = await request.form()
    try:
        values = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        photo = None
        upload = form.get("photo")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(request.app.state.settings.max_image_bytes + 1)
            photo = service.Photo(data, upload.filename) if data else None
    finally:
        await form.close()
    return values, photo


def _upload(request: Request) -> service.Upload:
    settings = request.app.state.settings
    return service.Upload(settings.media_dir, settings.max_image_bytes, str(request.base_url))


def _recorded_by(request: Request, caller: Principal) -> str:
    user = getattr(request.state, "user", None)
    return user.full_name if user is not None else caller.label


def _activity(code: str) -> act.Activity:
    activity = act.ACTIVITIES.get(code)
    if activity is None:
        raise NotFound()
    return activity


def _place(options: act.Options, raw: str | None) -> act.Place | None:
    if raw and raw.isdigit() and len(raw) < 19:
        return options.facilities.get(int(raw))
    if len(options.facilities) == 1:
        return next(iter(options.facilities.values()))
    return None


def _facilities_for(options: act.Options, activity: act.Activity) -> list[act.Place]:
    """The facilities where this activity is done; all of them when none is of a fitting kind."""
    places = list(options.facilities.values())
    fitting = [p for p in places if activity in act.activities_for(p.kind)]
    return fitting or places


def _now_form(**values: str) -> dict[str, str]:
    now = datetime.now(DISPLAY_TZ)
    return {
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M"),
        "entry_id": str(uuid.uuid4()),
        **values,
    }


def _form_ctx(
    db: DB,
    caller: Principal,
    activity: act.Activity,
    options: act.Options,
    form: dict[str, str],
    **extra: Any,
) -> dict[str, Any]:
    places = _facilities_for(options, activity)
    ctx: dict[str, Any] = {
        "activity": activity,
        "form": form,
        "facility_options": [(p.id, p.name) for p in places],
        "product_options": [(p.id, p.name) for p in options.products.values()],
        "lots": list(options.lots.values()),
        "own_places": list(options.facilities.values()),
        "partners": list(options.partners.values()),
        "unit_options": list(act.UNIT_LABELS.items()),
        "dose_unit_options": [(c, act.UNIT_LABELS[c]) for c in ("MLT", "LTR", "GRM", "KGM")],
        "input_rows": range(forms.INPUT_ROWS),
        "cooperative": options.cooperative,
        "chip_limit": CHIP_LIMIT,
        "periods": [],
        **extra,
    }
    if activity.code == "harvest":
        org_id = service.own_organisation(caller)
        now = datetime.now(DISPLAY_TZ)
        periods = service.withholding_periods(db, org_id, since=now)
        names = {p.uri: p.name for p in options.facilities.values()}
        ctx["periods"] = [
            (p, names.get(p.location, p.location)) for p in act.active_periods(periods, now=now)
        ]
    return ctx


def _failed(
    request: Request, template: str, exc: ValidationFailed, ctx: dict[str, Any]
) -> Response:
    ctx = {**ctx, "errors": field_messages(request.state.locale, exc)}
    return render(request, template, ctx, status_code=422)


# list and entries ----------------------------------------------------------------------------


@router.get("/my/diary")
def my_diary(request: Request, caller: PageCaller, db: DB) -> Response:
    entries = service.list_entries(db, actor=caller)
    saved = request.query_params.get("saved", "")
    ctx = {
        "entries": entries,
        "saved": int(saved) if saved.isdigit() and len(saved) < 19 else None,
        "unit_labels": act.UNIT_LABELS,
    }
    return render(request, "diary/list.html", ctx)


@router.get("/my/diary/new")
def new_entry(request: Request, caller: PageCaller, db: DB) -> Response:
    options = service.options_for(db, actor=caller)
    place = _place(options, request.query_params.get("facility"))
    ctx = {
        "facilities": list(options.facilities.values()),
        "place": place,
        "activities": act.activities_for(place.kind) if place else [],
        "groups": act.FACILITY_GROUPS,
        "group_labels": act.GROUP_LABELS,
    }
    return render(request, "diary/new.html", ctx)


@router.get("/my/diary/new/{code}")
def entry_form(request: Request, code: str, caller: PageCaller, db: DB) -> Response:
    activity = _activity(code)
    options = service.options_for(db, actor=caller)
    form = _now_form()
    place = _place(options, request.query_params.get("facility"))
    if place is not None:
        form["facility"] = str(place.id)
    if act.LOT_NUMBER in activity.fields and activity.code != "receiving":
        form["lot_number"] = service.suggested_lot(options, datetime.now(DISPLAY_TZ))
    return render(request, "diary/form.html", _form_ctx(db, caller, activity, options, form))


@router.post("/my/diary/new/{code}", dependencies=[CSRF])
async def record_entry(request: Request, code: str, caller: PageCaller, db: DB) -> Response:
    values, photo = await _read(request)  # first: the uploaded file is closed whatever follows
    activity = _activity(code)
    try:
        pk = service.record(
            db,
            actor=caller,
            recorded_by=_recorded_by(request, caller),
            activity=activity,
            form=values,
            photo=photo,
            upload=_upload(request),
        )
    except ValidationFailed as exc:
        db.rollback()
        options = service.options_for(db, actor=caller)
        ctx = _form_ctx(db, caller, activity, options, values)
        return _failed(request, "diary/form.html", exc, ctx)
    return RedirectResponse(f"/my/diary?saved={pk}", status_code=303)


@router.get("/my/diary/{entry_pk}")
def show_entry(request: Request, entry_pk: DbId, caller: PageCaller, db: DB) -> Response:
    view = service.entry(db, actor=caller, entry_pk=entry_pk)
    ctx = {"entry": view, "unit_labels": act.UNIT_LABELS}
    return render(request, "diary/entry.html", ctx)


@router.get("/my/diary/{entry_pk}/correct")
def correction_form(request: Request, entry_pk: DbId, caller: PageCaller, db: DB) -> Response:
    view = service.entry(db, actor=caller, entry_pk=entry_pk)
    if view.corrected:
        return RedirectResponse(f"/my/diary/{entry_pk}", status_code=303)
    activity, form = service.correction_form(db, actor=caller, entry_pk=entry_pk)
    options = service.options_for(db, actor=caller)
    form = {**form, "entry_id": str(uuid.uuid4())}
    ctx = _form_ctx(db, caller, activity, options, form, correcting=view)
    return render(request, "diary/form.html", ctx)


@router.post("/my/diary/{entry_pk}/correct", dependencies=[CSRF])
async def correct_entry(request: Request, entry_pk: DbId, caller: PageCaller, db: DB) -> Response:
    values, photo = await _read(request)  # first: the uploaded file is closed whatever follows
    view = service.entry(db, actor=caller, entry_pk=entry_pk)
    if view.activity is None:
        raise NotFound()
    try:
        pk = service.correct(
            db,
            actor=caller,
            recorded_by=_recorded_by(request, caller),
            entry_pk=entry_pk,
            form=values,
            photo=photo,
            upload=_upload(request),
        )
    except ValidationFailed as exc:
        db.rollback()
        options = service.options_for(db, actor=caller)
        ctx = _form_ctx(db, caller, view.activity, options, values, correcting=view)
        return _failed(request, "diary/form.html", exc, ctx)
    return RedirectResponse(f"/my/diary?saved={pk}", status_code=303)


@router.get("/diary/photos/{file_id}")
def diary_photo(request: Request, file_id: DbId, caller: PageCaller, db: DB) -> FileResponse:
    stored = service.photo_file(db, actor=caller, file_id=file_id)
    try:
        path = files.open_path(request.app.state.settings.media_dir, stored.storage_key)
    except FileNotFoundError as exc:
        raise NotFound() from exc
    if not path.is_file():
        raise NotFound()
    return FileResponse(path, media_type=stored.content_type)
