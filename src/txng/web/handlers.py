"""Exception handlers: RFC 7807 problem JSON for the API, one friendly error page for people."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from txng.errors import N_, FieldError, TxngError
from txng.kit import i18n
from txng.web import forms
from txng.web.deps import LoginRequired
from txng.web.templating import render

log = logging.getLogger("txng")

_HTTP_TITLES = {
    400: N_("Bad request"),
    401: N_("Sign in or send a valid API key"),
    403: N_("You are not allowed to do this"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("This conflicts with the current state"),
    413: N_("The upload is too large"),
    422: N_("The submitted data is not valid"),
    429: N_("Too many requests, please try again later"),
    500: N_("Something went wrong on our side"),
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/epcis", "/healthz")):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def problem(
    request: Request,
    status: int,
    title: str,
    *,
    type_slug: str,
    type_uri: str | None = None,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    body: dict[str, Any] = {
        "type": type_uri or f"/problems/{type_slug}",
        "title": i18n.gettext(locale, title),
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [
            {"pointer": e.field, "detail": forms.translate(locale, e), "code": e.code}
            for e in errors
        ]
    if wants_json(request):
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return JSONResponse(
            body, status_code=status, media_type="application/problem+json", headers=headers
        )
    return render(request, "error.html", {"problem": body}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(TxngError)
    async def txng_error(request: Request, exc: TxngError) -> Response:
        locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
        detail = i18n.gettext(locale, exc.message, exc.params) if exc.params else None
        return problem(
            request,
            exc.status_code,
            exc.message if not exc.params else exc.default_message,
            type_slug=exc.type_slug,
            type_uri=exc.type_uri,
            detail=detail,
            errors=exc.errors,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        failed = forms.from_pydantic(list(exc.errors()))
        return problem(
            request, 422, failed.message, type_slug=failed.type_slug, errors=failed.errors
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = _HTTP_TITLES.get(exc.status_code, N_("Bad request"))
        return problem(request, exc.status_code, title, type_slug=f"http-{exc.status_code}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return problem(request, 500, _HTTP_TITLES[500], type_slug="internal-error")
