"""Home, language switch and health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from txng.kit import i18n
from txng.web.deps import DB, LANG_COOKIE

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/healthz", include_in_schema=True, tags=["ops"])
def healthz(db: DB) -> JSONResponse:
    """200 once the database answers."""
    db.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
        )
    return response
