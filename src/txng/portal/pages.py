"""The public portal's pages (C8): no sign-in, Vietnamese paths, only published data."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from txng.errors import NotFound
from txng.kit import files
from txng.kit.i18n import today_local
from txng.portal import service
from txng.recalls import service as recalls_service
from txng.registry import labels
from txng.web.deps import DB, DbId, MaybeCaller
from txng.web.templating import render

router = APIRouter(include_in_schema=False)

FILTERS = ("q", "commune", "category", "cert", "ocop")
OCOP_ANY = "any"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _query(params: dict[str, str]) -> service.ProductQuery:
    """Read the filters leniently: a public form never answers 422, unknown values are ignored."""
    stars = _int(params.get("ocop"))
    scheme = params.get("cert") or None
    return service.ProductQuery(
        q=params.get("q", "").strip()[:200],
        commune_code=params.get("commune") or None,
        category_id=_int(params.get("category")),
        scheme=scheme if scheme in labels.SCHEME_LABELS else None,
        ocop_stars=stars if stars in service.OCOP_STARS else None,
        ocop_only=params.get("ocop") == OCOP_ANY,
    )


def _page_url(params: dict[str, str], page: int, path: str = "/san-pham") -> str:
    kept = {k: v for k, v in params.items() if k in FILTERS and v}
    return f"{path}?" + urlencode({**kept, "page": page})


@router.get("/")
def home(request: Request, caller: MaybeCaller, db: DB) -> Response:
    ctx = {
        "figures": service.figures(db),
        "featured": service.featured_ocop(db),
        # A signed-in organisation's dashboard notice of recalls reaching its goods (C12).
        "recall_notices": recalls_service.notices_for(db, actor=caller) if caller else [],
    }
    return render(request, "home.html", ctx)


@router.get("/san-pham")
def products(request: Request, caller: MaybeCaller, db: DB) -> Response:
    params = {k: v for k, v in request.query_params.items() if k in (*FILTERS, "page")}
    query = _query(params)
    result = service.search_products(
        db, query=query, today=today_local(), page=_int(params.get("page")) or 1
    )
    ctx: dict[str, Any] = {
        "query": query,
        "form": {k: params.get(k, "") for k in FILTERS},
        "result": result,
        "prev_url": _page_url(params, result.page - 1) if result.page > 1 else None,
        "next_url": _page_url(params, result.page + 1) if result.page < result.pages else None,
        "commune_codes": service.commune_codes(db),
        "categories": service.categories(db),
        "schemes": list(labels.SCHEME_LABELS.items()),
        "stars": service.OCOP_STARS,
    }
    return render(request, "portal/products.html", ctx)


@router.get("/san-pham/{product_id}")
def product(request: Request, product_id: DbId, caller: MaybeCaller, db: DB) -> Response:
    detail = service.get_product(db, product_id=product_id, today=today_local())
    return render(request, "portal/product.html", {"detail": detail, "p": detail.product})


@router.get("/san-pham/{product_id}/anh/{image_id}")
def product_image(request: Request, product_id: DbId, image_id: DbId, db: DB) -> Response:
    stored = service.product_image(db, product_id=product_id, image_id=image_id)
    try:
        path = files.open_path(request.app.state.settings.media_dir, stored.storage_key)
    except FileNotFoundError as exc:
        raise NotFound() from exc
    if not path.is_file():
        raise NotFound()
    return FileResponse(path, media_type=stored.content_type)


@router.get("/co-so")
def producers(request: Request, caller: MaybeCaller, db: DB) -> Response:
    params = {k: v for k, v in request.query_params.items() if k in ("q", "commune", "page")}
    result = service.search_producers(
        db,
        q=params.get("q", "").strip()[:200],
        commune_code=params.get("commune") or None,
        page=_int(params.get("page")) or 1,
    )
    pages = result.page, result.pages
    ctx: dict[str, Any] = {
        "form": {k: params.get(k, "") for k in ("q", "commune")},
        "result": result,
        "prev_url": _page_url(params, pages[0] - 1, "/co-so") if pages[0] > 1 else None,
        "next_url": _page_url(params, pages[0] + 1, "/co-so") if pages[0] < pages[1] else None,
    }
    return render(request, "portal/producers.html", ctx)


@router.get("/co-so/{organisation_id}")
def producer(request: Request, organisation_id: DbId, caller: MaybeCaller, db: DB) -> Response:
    detail = service.get_producer(db, organisation_id=organisation_id)
    return render(request, "portal/producer.html", {"detail": detail, "org": detail.organisation})


@router.get("/danh-muc")
def catalog(request: Request, caller: MaybeCaller, db: DB) -> Response:
    return render(request, "portal/catalog.html", {"catalog": service.catalog(db)})
