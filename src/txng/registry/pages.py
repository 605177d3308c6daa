"""Server-rendered pages: enterprise users manage their organisation, facilities and products;
authority users browse what their scope lets them see."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from txng.accounts.roles import SECTOR_LABELS, Principal
from txng.errors import NotFound, ValidationFailed
from txng.kit.adminunits import admin_units
from txng.kit.i18n import today_local
from txng.models import Product
from txng.registry import labels, service
from txng.registry.schemas import FacilityIn, OrganisationPatch, ProductIn
from txng.web.deps import CSRF, DB, DbId, PageCaller
from txng.web.forms import field_messages, from_validation_error
from txng.web.templating import render

router = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)

CERT_ROWS = 3
REQUIRED_FILE = File(...)


def _choices(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    communes = admin_units().communes_of(settings.province_code)
    return {
        "province_code": settings.province_code,
        "commune_options": [(c.code, c.name) for c in communes],
        "org_kind_options": list(labels.ORGANISATION_KIND_LABELS.items()),
        "facility_kind_options": list(labels.FACILITY_KIND_LABELS.items()),
        "sector_options": [(k.value, v) for k, v in SECTOR_LABELS.items()],
        "scheme_options": list(labels.SCHEME_LABELS.items()),
        "unit_options": list(labels.UNIT_LABELS.items()),
    }


def _own_org(caller: Principal) -> int:
    if caller.organisation_id is None:
        raise NotFound()
    return caller.organisation_id


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form: FormData, name: str) -> str | None:
    return _text(form, name) or None


def _parse(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _failed(
    request: Request, template: str, exc: ValidationFailed, ctx: dict[str, Any]
) -> Response:
    ctx = {**_choices(request), **ctx, "errors": field_messages(request.state.locale, exc)}
    return render(request, template, ctx, status_code=422)


# organisation ----------------------------------------------------------------------------


@router.get("/my/organisation")
def my_organisation(request: Request, caller: PageCaller, db: DB) -> Response:
    org = service.get_organisation(db, actor=caller, organisation_id=_own_org(caller))
    form = {f: getattr(org, f) or "" for f in service.ORGANISATION_FIELDS}
    ctx = {
        **_choices(request),
        "org": org,
        "form": form,
        "saved": request.query_params.get("saved"),
    }
    return render(request, "registry/organisation.html", ctx)


@router.post("/my/organisation", dependencies=[CSRF])
async def update_my_organisation(request: Request, caller: PageCaller, db: DB) -> Response:
    form = await request.form()
    org_id = _own_org(caller)
    values: dict[str, str | None] = {f: _text(form, f) for f in service.ORGANISATION_FIELDS}
    for name in ("name_en", "gln", "gs1_company_prefix"):
        values[name] = values[name] or None
    try:
        patch = _parse(OrganisationPatch, values)
        service.update_organisation(db, actor=caller, organisation_id=org_id, patch=patch)
    except ValidationFailed as exc:
        db.rollback()
        org = service.get_organisation(db, actor=caller, organisation_id=org_id)
        return _failed(request, "registry/organisation.html", exc, {"org": org, "form": values})
    return RedirectResponse("/my/organisation?saved=1", status_code=303)


@router.post("/my/organisation/business-registration", dependencies=[CSRF])
async def upload_business_registration(
    request: Request, caller: PageCaller, db: DB, file: UploadFile = REQUIRED_FILE
) -> Response:
    settings = request.app.state.settings
    org_id = _own_org(caller)
    data = await file.read(settings.max_document_bytes + 1)
    try:
        service.attach_business_registration(
            db,
            actor=caller,
            organisation_id=org_id,
            data=data,
            filename=file.filename or "",
            media_dir=settings.media_dir,
            max_bytes=settings.max_document_bytes,
        )
    except ValidationFailed as exc:
        org = service.get_organisation(db, actor=caller, organisation_id=org_id)
        form = {f: getattr(org, f) or "" for f in service.ORGANISATION_FIELDS}
        return _failed(request, "registry/organisation.html", exc, {"org": org, "form": form})
    return RedirectResponse("/my/organisation?saved=1", status_code=303)


# facilities ------------------------------------------------------------------------------


@router.get("/my/facilities")
def my_facilities(request: Request, caller: PageCaller, db: DB) -> Response:
    rows, total = service.list_facilities(
        db, actor=caller, organisation_id=_own_org(caller), per_page=200
    )
    return render(request, "registry/facilities.html", {"facilities": rows, "total": total})


def _facility_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {f: _text(form, f) for f in service.FACILITY_FIELDS}
    for name in (
        "gln",
        "location_code",
        "growing_area_code",
        "area_hectares",
        "latitude",
        "longitude",
    ):
        values[name] = (
            values[name].replace(",", ".")
            if name in ("area_hectares", "latitude", "longitude")
            else values[name]
        )
        values[name] = values[name] or None
    return values


@router.get("/my/facilities/new")
def new_facility(request: Request, caller: PageCaller) -> Response:
    _own_org(caller)
    settings = request.app.state.settings
    form = {"province_code": settings.province_code, "kind": "farm"}
    return render(request, "registry/facility_form.html", {**_choices(request), "form": form})


@router.post("/my/facilities/new", dependencies=[CSRF])
async def create_facility(request: Request, caller: PageCaller, db: DB) -> Response:
    values = _facility_values(await request.form())
    try:
        data = _parse(FacilityIn, values)
        service.create_facility(db, actor=caller, organisation_id=_own_org(caller), data=data)
    except ValidationFailed as exc:
        return _failed(request, "registry/facility_form.html", exc, {"form": values})
    return RedirectResponse("/my/facilities", status_code=303)


@router.get("/my/facilities/{facility_id}")
def edit_facility(request: Request, facility_id: DbId, caller: PageCaller, db: DB) -> Response:
    facility = service.get_facility(db, actor=caller, facility_id=facility_id)
    form = {
        f: "" if getattr(facility, f) is None else getattr(facility, f)
        for f in service.FACILITY_FIELDS
    }
    ctx = {**_choices(request), "form": form, "facility": facility}
    return render(request, "registry/facility_form.html", ctx)


@router.post("/my/facilities/{facility_id}", dependencies=[CSRF])
async def update_facility(
    request: Request, facility_id: DbId, caller: PageCaller, db: DB
) -> Response:
    facility = service.get_facility(db, actor=caller, facility_id=facility_id)
    values = _facility_values(await request.form())
    try:
        data = _parse(FacilityIn, values)
        service.update_facility(db, actor=caller, facility_id=facility.id, data=data)
    except ValidationFailed as exc:
        return _failed(
            request, "registry/facility_form.html", exc, {"form": values, "facility": facility}
        )
    return RedirectResponse("/my/facilities", status_code=303)


# products --------------------------------------------------------------------------------


@router.get("/my/products")
def my_products(request: Request, caller: PageCaller, db: DB) -> Response:
    rows, total = service.list_products(
        db, actor=caller, organisation_id=_own_org(caller), per_page=200
    )
    items = service.products_out(db, rows, today=today_local())
    return render(request, "registry/products.html", {"products": items, "total": total})


def _product_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: _text(form, name)
        for name in (
            "gtin",
            "name_vi",
            "name_en",
            "description_vi",
            "description_en",
            "brand",
            "geographical_indication",
        )
    }
    values["category_code"] = _optional(form, "category_code")
    values["sector"] = _optional(form, "sector")
    values["net_content"] = (_optional(form, "net_content") or "").replace(",", ".") or None
    values["net_content_unit"] = _optional(form, "net_content_unit")
    values["shelf_life_days"] = _optional(form, "shelf_life_days")
    values["ocop_stars"] = _optional(form, "ocop_stars")
    values["standards"] = [s.strip() for s in _text(form, "standards").splitlines() if s.strip()]
    certs = []
    for i in range(CERT_ROWS + 20):
        row = {
            f: _text(form, f"cert-{i}-{f}")
            for f in ("scheme", "number", "issuer", "valid_from", "valid_to")
        }
        if any(v for k, v in row.items() if k != "scheme"):
            certs.append(row)
    values["certifications"] = certs
    return values


def _product_form(product: Product, out: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        name: getattr(out, name) or ""
        for name in (
            "gtin",
            "name_vi",
            "name_en",
            "description_vi",
            "description_en",
            "brand",
            "geographical_indication",
            "category_code",
            "net_content_unit",
            "shelf_life_days",
            "ocop_stars",
        )
    }
    form["sector"] = out.sector.value
    form["net_content"] = "" if out.net_content is None else f"{out.net_content.normalize():f}"
    form["standards"] = "\n".join(out.standards)
    form["certifications"] = [c.model_dump() for c in out.certifications]
    return form


def _product_ctx(request: Request, db: DB, **extra: Any) -> dict[str, Any]:
    form = extra.get("form", {})
    certs = list(form.get("certifications", []))
    rows = certs + [{}] * max(1, CERT_ROWS - len(certs))
    return {
        **_choices(request),
        "category_options": [
            (c.code, c.name_en if request.state.locale == "en" else c.name_vi)
            for c in service.list_categories(db)
        ],
        "cert_rows": rows,
        **extra,
    }


@router.get("/my/products/new")
def new_product(request: Request, caller: PageCaller, db: DB) -> Response:
    _own_org(caller)
    return render(request, "registry/product_form.html", _product_ctx(request, db, form={}))


@router.post("/my/products/new", dependencies=[CSRF])
async def create_product(request: Request, caller: PageCaller, db: DB) -> Response:
    values = _product_values(await request.form())
    try:
        data = _parse(ProductIn, values)
        product = service.create_product(
            db, actor=caller, organisation_id=_own_org(caller), data=data
        )
    except ValidationFailed as exc:
        ctx = _product_ctx(request, db, form=values)
        return _failed(request, "registry/product_form.html", exc, ctx)
    return RedirectResponse(f"/my/products/{product.id}?saved=1", status_code=303)


@router.get("/my/products/{product_id}")
def edit_product(request: Request, product_id: DbId, caller: PageCaller, db: DB) -> Response:
    product = service.get_product(db, actor=caller, product_id=product_id)
    out = service.products_out(db, [product], today=today_local())[0]
    ctx = _product_ctx(
        request,
        db,
        form=_product_form(product, out),
        product=out,
        saved=request.query_params.get("saved"),
    )
    return render(request, "registry/product_form.html", ctx)


@router.post("/my/products/{product_id}", dependencies=[CSRF])
async def update_product(
    request: Request, product_id: DbId, caller: PageCaller, db: DB
) -> Response:
    product = service.get_product(db, actor=caller, product_id=product_id)
    out = service.products_out(db, [product], today=today_local())[0]
    values = _product_values(await request.form())
    try:
        data = _parse(ProductIn, values)
        service.update_product(db, actor=caller, product_id=product.id, data=data)
    except ValidationFailed as exc:
        ctx = _product_ctx(request, db, form=values, product=out)
        return _failed(request, "registry/product_form.html", exc, ctx)
    return RedirectResponse(f"/my/products/{product.id}?saved=1", status_code=303)


@router.post("/my/products/{product_id}/images", dependencies=[CSRF])
async def upload_product_image(
    request: Request,
    product_id: DbId,
    caller: PageCaller,
    db: DB,
    image: UploadFile = REQUIRED_FILE,
) -> Response:
    settings = request.app.state.settings
    product = service.get_product(db, actor=caller, product_id=product_id)
    data = await image.read(settings.max_image_bytes + 1)
    try:
        service.add_product_image(
            db,
            actor=caller,
            product_id=product.id,
            data=data,
            filename=image.filename or "",
            media_dir=settings.media_dir,
            max_bytes=settings.max_image_bytes,
        )
    except ValidationFailed as exc:
        out = service.products_out(db, [product], today=today_local())[0]
        ctx = _product_ctx(request, db, form=_product_form(product, out), product=out)
        return _failed(request, "registry/product_form.html", exc, ctx)
    return RedirectResponse(f"/my/products/{product.id}?saved=1", status_code=303)


# authority views -------------------------------------------------------------------------


@router.get("/registry/organisations")
def registry_organisations(request: Request, caller: PageCaller, db: DB) -> Response:
    q = request.query_params.get("q") or None
    rows, total = service.list_organisations(db, actor=caller, q=q, per_page=200)
    return render(
        request,
        "registry/organisations.html",
        {"organisations": rows, "total": total, "q": q or ""},
    )


@router.get("/registry/products")
def registry_products(request: Request, caller: PageCaller, db: DB) -> Response:
    q = request.query_params.get("q") or None
    rows, total = service.list_products(db, actor=caller, q=q, per_page=200)
    items = service.products_out(db, rows, today=today_local())
    return render(
        request,
        "registry/products.html",
        {"products": items, "total": total, "q": q or "", "authority": True},
    )
