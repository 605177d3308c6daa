"""JSON API of the registry: organisations, facilities, products, categories."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse

from txng.errors import NotFound
from txng.kit import files
from txng.kit.i18n import today_local
from txng.registry import service
from txng.registry.schemas import (
    CategoryIn,
    CategoryOut,
    FacilityIn,
    FacilityOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    Page,
    ProductIn,
    ProductOut,
)
from txng.web.deps import DB, ApiCaller, DbId, OptionalDbId

router = APIRouter(prefix="/api/v1", tags=["registry"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]


def _org_out(org: object) -> OrganisationOut:
    out = OrganisationOut.model_validate(org)
    out.has_business_registration = getattr(org, "business_registration_file_id", None) is not None
    return out


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read at most limit + 1 bytes: enough to tell that a file is too large."""
    return await upload.read(limit + 1)


# organisations ---------------------------------------------------------------------------


@router.get("/organisations", response_model=Page[OrganisationOut])
def list_organisations(
    caller: ApiCaller, db: DB, q: str | None = None, page: PageNo = 1, per_page: PerPage = 50
) -> Page[OrganisationOut]:
    """Organisations the caller may see."""
    rows, total = service.list_organisations(db, actor=caller, q=q, page=page, per_page=per_page)
    return Page(items=[_org_out(o) for o in rows], total=total, page=page, per_page=per_page)


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def register_organisation(body: OrganisationIn, caller: ApiCaller, db: DB) -> OrganisationOut:
    """Register an organisation (provincial administrators)."""
    return _org_out(service.register_organisation(db, actor=caller, data=body))


@router.get("/organisations/{organisation_id}", response_model=OrganisationOut)
def get_organisation(organisation_id: DbId, caller: ApiCaller, db: DB) -> OrganisationOut:
    return _org_out(service.get_organisation(db, actor=caller, organisation_id=organisation_id))


@router.patch("/organisations/{organisation_id}", response_model=OrganisationOut)
def update_organisation(
    organisation_id: DbId, body: OrganisationPatch, caller: ApiCaller, db: DB
) -> OrganisationOut:
    """Change the organisation's profile (its administrator or a provincial administrator)."""
    org = service.update_organisation(db, actor=caller, organisation_id=organisation_id, patch=body)
    return _org_out(org)


@router.put("/organisations/{organisation_id}/business-registration", status_code=201)
async def upload_business_registration(
    organisation_id: DbId,
    request: Request,
    caller: ApiCaller,
    db: DB,
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG or WebP")],
) -> dict[str, object]:
    """Upload the business-registration certificate (giấy chứng nhận đăng ký kinh doanh)."""
    settings = request.app.state.settings
    data = await _read_limited(file, settings.max_document_bytes)
    stored = service.attach_business_registration(
        db,
        actor=caller,
        organisation_id=organisation_id,
        data=data,
        filename=file.filename or "",
        media_dir=settings.media_dir,
        max_bytes=settings.max_document_bytes,
    )
    return {"sha256": stored.sha256, "content_type": stored.content_type, "size": stored.size_bytes}


@router.get("/organisations/{organisation_id}/business-registration")
def download_business_registration(
    organisation_id: DbId, request: Request, caller: ApiCaller, db: DB
) -> FileResponse:
    stored = service.business_registration_file(db, actor=caller, organisation_id=organisation_id)
    # A download, never rendered inline: the file came from a user.
    return _file_response(
        request, stored.storage_key, stored.content_type, download_name=stored.original_name
    )


def _file_response(
    request: Request, key: str, content_type: str, *, download_name: str | None = None
) -> FileResponse:
    try:
        path = files.open_path(request.app.state.settings.media_dir, key)
    except FileNotFoundError as exc:
        raise NotFound() from exc
    if not path.is_file():
        raise NotFound()
    if download_name is not None:
        return FileResponse(path, media_type=content_type, filename=download_name)
    return FileResponse(path, media_type=content_type)


# facilities ------------------------------------------------------------------------------


@router.get("/facilities", response_model=Page[FacilityOut])
def list_facilities(
    caller: ApiCaller,
    db: DB,
    organisation_id: OptionalDbId = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> Page[FacilityOut]:
    rows, total = service.list_facilities(
        db, actor=caller, organisation_id=organisation_id, page=page, per_page=per_page
    )
    return Page(
        items=[FacilityOut.model_validate(f, from_attributes=True) for f in rows],
        total=total,
        page=page,
        per_page=per_page,
    )


@router.post(
    "/organisations/{organisation_id}/facilities", response_model=FacilityOut, status_code=201
)
def create_facility(
    organisation_id: DbId, body: FacilityIn, caller: ApiCaller, db: DB
) -> FacilityOut:
    """Declare a farm, growing area, pond, barn, packing house, factory, warehouse or shop."""
    facility = service.create_facility(db, actor=caller, organisation_id=organisation_id, data=body)
    return FacilityOut.model_validate(facility, from_attributes=True)


@router.get("/facilities/{facility_id}", response_model=FacilityOut)
def get_facility(facility_id: DbId, caller: ApiCaller, db: DB) -> FacilityOut:
    facility = service.get_facility(db, actor=caller, facility_id=facility_id)
    return FacilityOut.model_validate(facility, from_attributes=True)


@router.put("/facilities/{facility_id}", response_model=FacilityOut)
def update_facility(facility_id: DbId, body: FacilityIn, caller: ApiCaller, db: DB) -> FacilityOut:
    facility = service.update_facility(db, actor=caller, facility_id=facility_id, data=body)
    return FacilityOut.model_validate(facility, from_attributes=True)


# categories ------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryOut], tags=["catalog"])
def list_categories(db: DB) -> list[CategoryOut]:
    """The province's product categories with their priority and mandatory flags (public)."""
    return [CategoryOut.model_validate(c) for c in service.list_categories(db)]


@router.post("/categories", response_model=CategoryOut, status_code=201, tags=["catalog"])
def create_category(body: CategoryIn, caller: ApiCaller, db: DB) -> CategoryOut:
    return CategoryOut.model_validate(service.create_category(db, actor=caller, data=body))


@router.put("/categories/{category_id}", response_model=CategoryOut, tags=["catalog"])
def update_category(category_id: DbId, body: CategoryIn, caller: ApiCaller, db: DB) -> CategoryOut:
    category = service.update_category(db, actor=caller, category_id=category_id, data=body)
    return CategoryOut.model_validate(category)


# products --------------------------------------------------------------------------------


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    caller: ApiCaller,
    db: DB,
    organisation_id: OptionalDbId = None,
    q: str | None = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> Page[ProductOut]:
    rows, total = service.list_products(
        db, actor=caller, organisation_id=organisation_id, q=q, page=page, per_page=per_page
    )
    items = service.products_out(db, rows, today=today_local())
    return Page(items=items, total=total, page=page, per_page=per_page)


@router.post(
    "/organisations/{organisation_id}/products", response_model=ProductOut, status_code=201
)
def create_product(organisation_id: DbId, body: ProductIn, caller: ApiCaller, db: DB) -> ProductOut:
    """Declare a product: GTIN-8/12/13/14 accepted, stored as GTIN-14."""
    product = service.create_product(db, actor=caller, organisation_id=organisation_id, data=body)
    return service.products_out(db, [product], today=today_local())[0]


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: DbId, caller: ApiCaller, db: DB) -> ProductOut:
    product = service.get_product(db, actor=caller, product_id=product_id)
    return service.products_out(db, [product], today=today_local())[0]


@router.put("/products/{product_id}", response_model=ProductOut)
def update_product(product_id: DbId, body: ProductIn, caller: ApiCaller, db: DB) -> ProductOut:
    product = service.update_product(db, actor=caller, product_id=product_id, data=body)
    return service.products_out(db, [product], today=today_local())[0]


@router.post("/products/{product_id}/images", response_model=ProductOut, status_code=201)
async def add_product_image(
    product_id: DbId,
    request: Request,
    caller: ApiCaller,
    db: DB,
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> ProductOut:
    """Attach an image; the type is checked from the content, the size against the limit."""
    settings = request.app.state.settings
    data = await _read_limited(image, settings.max_image_bytes)
    service.add_product_image(
        db,
        actor=caller,
        product_id=product_id,
        data=data,
        filename=image.filename or "",
        media_dir=settings.media_dir,
        max_bytes=settings.max_image_bytes,
    )
    product = service.get_product(db, actor=caller, product_id=product_id)
    return service.products_out(db, [product], today=today_local())[0]


@router.get("/products/{product_id}/images/{image_id}")
def get_product_image(
    product_id: DbId, image_id: DbId, request: Request, caller: ApiCaller, db: DB
) -> FileResponse:
    stored = service.product_image_file(db, actor=caller, product_id=product_id, image_id=image_id)
    return _file_response(request, stored.storage_key, stored.content_type)
