"""Composition root: settings, database, routers, handlers."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from txng import __version__
from txng.config import Settings, get_settings
from txng.db import DirectReads, make_engine, make_sessionmaker
from txng.web import handlers, middleware
from txng.web.ratelimit import RateLimiter

API_DESCRIPTION = """
The open API of the provincial traceability system (TXNG).

Authenticate with `Authorization: Bearer <API key>`; an enterprise administrator creates keys
on the "API keys" page. Errors are RFC 7807 problem documents (`application/problem+json`) whose
`errors[].pointer` is a JSON pointer to the offending field. Send `Accept-Language: en` for English
messages; Vietnamese is the default.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.ensure_dirs()
    app = FastAPI(
        title="TXNG — Hệ thống truy xuất nguồn gốc",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # served below from a local Swagger UI: no CDN at run time
        redoc_url=None,
    )
    engine = make_engine(settings.sqlalchemy_url, **settings.pool_options)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # the event loop's reads (ADR 18), on a connection of its own: not with a pool of one
    options = settings.pool_options
    if options.get("pool_size", 2) + options.get("max_overflow", 0) >= 2:
        app.state.direct_reads = DirectReads(engine)
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute, 60.0)
    app.state.resolver_limiter = RateLimiter(settings.consumer_pages_per_minute, 60.0)
    app.state.scan_limiter = RateLimiter(settings.scans_per_minute, 60.0)

    from txng.accounts import api as accounts_api
    from txng.accounts import pages as accounts_pages
    from txng.authority import api as authority_api
    from txng.authority import pages as authority_pages
    from txng.diary import pages as diary_pages
    from txng.epcis import api as epcis_api
    from txng.guidance import pages as guidance_pages
    from txng.ledger import api as ledger_api
    from txng.ledger import pages as ledger_pages
    from txng.onboarding import pages as onboarding_pages
    from txng.portal import pages as portal_pages
    from txng.registry import api as registry_api
    from txng.registry import pages as registry_pages
    from txng.resolver import api as resolver_api
    from txng.resolver import pages as resolver_pages
    from txng.review import api as review_api
    from txng.review import pages as review_pages
    from txng.scans import pages as scans_pages
    from txng.stamps import api as stamps_api
    from txng.stamps import pages as stamps_pages
    from txng.trace import api as trace_api
    from txng.trace import pages as trace_pages
    from txng.web import pages as web_pages

    # first: the consumer page of a scanned stamp is the busiest route, and no other path
    # starts with /01/, /00/ or /414/ (each route tried before it costs every scan a match)
    app.include_router(resolver_api.router)
    app.include_router(portal_pages.router)  # before web_pages: the public portal answers /
    app.include_router(web_pages.router)
    app.include_router(accounts_pages.router)
    app.include_router(registry_pages.router)
    app.include_router(accounts_api.router)
    app.include_router(registry_api.router)
    app.include_router(epcis_api.router)
    app.include_router(diary_pages.router)
    app.include_router(trace_api.router)
    app.include_router(trace_pages.router)
    app.include_router(onboarding_pages.router)
    app.include_router(review_api.router)
    app.include_router(review_pages.router)
    app.include_router(stamps_api.router)
    app.include_router(stamps_pages.router)
    app.include_router(ledger_api.router)
    app.include_router(ledger_pages.router)
    app.include_router(authority_api.router)
    app.include_router(authority_pages.router)
    app.include_router(guidance_pages.router)
    app.include_router(resolver_pages.router)
    app.include_router(scans_pages.router)
    static_dir = resources.files("txng") / "static"
    # Swagger UI's files come with the fastapi-offline package: no CDN at run time.
    swagger_dir = resources.files("fastapi_offline") / "static"
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_dir)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=app.title,
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon.png",
        )

    if settings.ledger_background:  # seal published records and sign checkpoints
        from txng.ledger import tasks as ledger_tasks

        app.state.ledger_stop = ledger_tasks.start(app.state.sessionmaker, settings)
    handlers.install(app)
    middleware.install(app)
    return app
