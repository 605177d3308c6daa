"""Per-request language, the CSRF cookie and security headers."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from txng.errors import PayloadTooLarge
from txng.kit import i18n
from txng.web.deps import CSRF_COOKIE, LANG_COOKIE
from txng.web.handlers import problem

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def pick_locale(request: Request) -> str:
    query = request.query_params.get("lang")
    if query in i18n.LOCALES:
        return query
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.LOCALES:
        return cookie
    # Machines (the API, EPCIS, any client asking for JSON such as a resolver client) say
    # their language in Accept-Language; people choose it with the switch (cookie).
    wants_json = "json" in request.headers.get("accept", "")
    if wants_json or request.url.path.startswith(("/api/", "/epcis")):
        return i18n.negotiate(request.headers.get("accept-language"))
    return i18n.DEFAULT_LOCALE


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.locale = pick_locale(request)
        settings = request.app.state.settings
        # Refuse an oversize body before Starlette spools it to disk; per-file limits come later.
        limit = max(settings.max_image_bytes, settings.max_document_bytes) + 256 * 1024
        if request.url.path.startswith("/epcis/"):
            limit = settings.epcis_capture_max_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return problem(
                request,
                413,
                PayloadTooLarge.default_message,
                type_slug=PayloadTooLarge.type_slug,
            )
        token = request.cookies.get(CSRF_COOKIE)
        fresh = not token or len(token) < 20
        request.state.csrf_token = secrets.token_urlsafe(32) if fresh else token
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                request.state.csrf_token,
                httponly=True,
                samesite="strict",
                secure=request.app.state.settings.cookie_secure,
                path="/",
            )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Content-Language", request.state.locale)
        return response
