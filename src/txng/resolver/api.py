"""The GS1 Digital Link resolver on our own domain, and its description file.

``GET /01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]``, ``/00/{sscc}``, ``/414/{gln}[/254/{ext}]``:

* malformed → 400 (problem JSON for API clients, the error page for browsers);
* well-formed but nothing published under it → 404;
* ``linkType=all`` (or ``linkset``), ``Accept: application/json`` or
  ``application/linkset+json`` → the RFC 9264 linkset;
* ``linkType=gs1:…`` → 307 to that link, 404 when the identifier has no such link;
* otherwise the consumer page (Vietnamese by default, no JavaScript).

The path is parsed from the raw request path, before percent-decoding, so that an encoded ``/``
inside a lot cannot be mistaken for a separator and raw characters outside GS1's set are seen.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from txng.db import (
    DirectReadFailed,
    DirectReads,
    session_scope,
    without_transaction,
)
from txng.errors import FieldError, TooManyRequests
from txng.kit import i18n
from txng.kit.ttlcache import NotCached
from txng.resolver import dl, links, pages
from txng.resolver import service as resolver_service
from txng.resolver.links import LINKSET_TYPE
from txng.resolver.service import InvalidDigitalLink, NotResolved, Resolution
from txng.web.deps import DB, client_ip

router = APIRouter(tags=["resolver"])
log = logging.getLogger(__name__)

# A resolver SHALL support CORS: anyone's scanner app may ask.
_CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Accept, Accept-Language"}
# Key qualifiers that may not start a path: answered with 400 instead of the router's 404.
_MISPLACED = ("10", "21", "22", "235", "254")


base_url = pages.base_url


def parse_request(request: Request, prefix: str = "") -> dl.DigitalLink:
    """The Digital Link of the request (raw path after ``prefix``); 400 when malformed."""
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    path = raw.decode("latin-1").split("?", 1)[0].removeprefix(prefix)
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        return dl.parse(path, query)
    except dl.DigitalLinkError as exc:
        raise InvalidDigitalLink(
            errors=[FieldError(exc.pointer, exc.message, exc.code, exc.params)]
        ) from exc


def _wants_linkset(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return LINKSET_TYPE in accept or ("json" in accept and "text/html" not in accept)


def _answer(
    request: Request,
    db: Session,
    found: Resolution,
    link: dl.DigitalLink,
    background: BackgroundTasks | None,
) -> Response:
    root = base_url(request)
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    link_type = link.param("linkType")
    headers = {
        **_CORS,
        "Link": f'<{root}{link.path}?linkType=all>; rel="linkset"; type="{LINKSET_TYPE}"',
    }
    if link_type in ("all", "linkset") or (link_type is None and _wants_linkset(request)):
        body = links.linkset(found, root, locale=locale)
        return JSONResponse(body, media_type=LINKSET_TYPE, headers=headers)
    if link_type is not None:
        target = links.find_link(found, root, link_type)
        return RedirectResponse(target.href, status_code=307, headers=headers)
    response = pages.consumer_page(request, db, found, context={}, background=background)
    response.headers.update(headers)
    return response


def _limit(request: Request) -> None:
    if not request.app.state.resolver_limiter.allow(client_ip(request) or ""):
        raise TooManyRequests()


def _resolve(
    request: Request, prefix: str = "", background: BackgroundTasks | None = None
) -> Response:
    link = parse_request(request, prefix)
    # Not the DB dependency: its session would open and close in two more trips to the thread
    # pool. Resolving only reads; the scan is logged by its own session.
    direct: DirectReads | None = getattr(request.app.state, "direct_reads", None)
    if getattr(request.state, "on_event_loop", False) and direct and direct.claim():
        with direct.session() as db:  # the stamp and its scans: on the loop's connection
            return _resolved(request, db, link, background)
    with session_scope(request.app.state.sessionmaker) as db:
        without_transaction(db)
        return _resolved(request, db, link, background)


def _connection_idle(request: Request) -> bool:
    """Whether the pool holds an idle connection (taking one will not wait)."""
    pool = request.app.state.engine.pool
    checkedin = getattr(pool, "checkedin", None)
    return checkedin is not None and checkedin() > 0


def _resolved(
    request: Request, db: Session, link: dl.DigitalLink, background: BackgroundTasks | None
) -> Response:
    for_people = link.param("linkType") is None and not _wants_linkset(request)
    if not for_people and getattr(request.state, "on_event_loop", False):
        raise NotCached(link.path)  # machines get fresh facts: read in a worker thread
    try:
        found = resolver_service.resolve(
            db,
            link=link,
            cache=pages.published_cache(request) if for_people else None,
            upstream=pages.upstream_cache(request) if for_people else None,
        )
    except NotResolved:
        # A serialised code that resolves to nothing is what a copied or invented stamp looks
        # like: people get a page that says so loudly; machines get the problem JSON.
        if link.qualifier("21") is None or not for_people:
            raise
        return pages.unknown_page(request, link)
    return _answer(request, db, found, link, background)


@router.get(
    "/01/{tail:path}",
    summary="Resolve a GTIN Digital Link (with CPV, lot, serial)",
)
async def resolve_gtin(request: Request, tail: str, background: BackgroundTasks) -> Response:
    """The consumer page, the linkset or a redirect for a trade item, lot or serialised item."""
    _limit(request)
    # A scanned stamp whose product and lot facts are cached costs two indexed reads: done on
    # the event loop, on its own connection (ADR 18), they cost less than the two thread
    # hand-overs of a worker thread (ADR 15). Anything that would wait — no idle pooled
    # connection for a rarer read, facts to load — or a failed read goes to a worker thread.
    if request.app.state.settings.resolver_on_event_loop and _connection_idle(request):
        queued = len(background.tasks)
        request.state.on_event_loop = True
        request.state.cache_claims = set()  # expired facts this request is to refresh
        try:
            response = _resolve(request, background=background)
        except (NotCached, DirectReadFailed):
            del background.tasks[queued:]  # served again below, from the start
        except BaseException:
            pages.release_cache_claims(request)
            raise
        else:
            if request.state.cache_claims:  # shown as they were; made again after the answer
                background.add_task(_refresh, request)
            return response
        finally:
            request.state.on_event_loop = False
    try:
        return await run_in_threadpool(_resolve, request, background=background)
    finally:
        pages.release_cache_claims(request)


def _refresh(request: Request) -> None:
    """Make again the cached facts that ``request`` found expired and claimed: its page once
    more in a worker thread (no scan logged, the answer thrown away), after its answer went out.
    Until then every page shows the expired facts, at most twice the cache time old."""
    try:
        _resolve(request)
    except Exception:  # the next request to find them expired tries again
        log.exception("refreshing the cached facts of %s failed", request.url.path)
    finally:
        pages.release_cache_claims(request)


@router.get("/00/{tail:path}", summary="Resolve an SSCC Digital Link")
def resolve_sscc(request: Request, tail: str) -> Response:
    """The consumer page, the linkset or a redirect for a logistic unit."""
    _limit(request)
    return _resolve(request)


@router.get(
    "/414/{tail:path}",
    summary="Resolve a GLN Digital Link (with extension)",
)
def resolve_gln(request: Request, tail: str) -> Response:
    """The page, the linkset or a redirect for a location."""
    _limit(request)
    return _resolve(request)


for _path, _endpoint in (
    ("/01/{tail:path}", resolve_gtin),
    ("/00/{tail:path}", resolve_sscc),
    ("/414/{tail:path}", resolve_gln),
):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)

for _ai in _MISPLACED:

    @router.api_route(f"/{_ai}/{{tail:path}}", methods=["GET", "HEAD"], include_in_schema=False)
    def misplaced_qualifier(request: Request, tail: str) -> Response:
        parse_request(request)  # always raises: a key qualifier before the primary key
        raise AssertionError  # pragma: no cover


_PREFLIGHT = {
    **_CORS,
    "Allow": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language",
}

for _key in ("01", "00", "414"):

    @router.options(f"/{_key}/{{tail:path}}", include_in_schema=False)
    def preflight(tail: str) -> Response:
        """CORS preflight: scanner apps on other origins may ask the resolver."""
        return Response(status_code=204, headers=_PREFLIGHT)


@router.get("/.well-known/gs1resolver", summary="Resolver description (GS1 resolver standard)")
def describe(request: Request) -> JSONResponse:
    """What this resolver serves: its root, primary keys and link type vocabulary."""
    name = f"TXNG {request.app.state.settings.province_name}"
    return JSONResponse(links.description(base_url(request), name), headers=_CORS)


@router.get(
    "/api/resolver/recall-status/{tail:path}",
    summary="Recall status of a published trade item or lot (gs1:recallStatus)",
)
def recall_status(request: Request, db: DB, tail: str) -> JSONResponse:
    """Whether the item or its lot is under an active recall, with the recalls' details."""
    link = parse_request(request, "/api/resolver/recall-status")
    found = resolver_service.resolve(db, link=link)
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    body = {
        "anchor": base_url(request) + found.link.path,
        "recalled": found.recalled,
        "recalls": [
            {
                "reason": r.reason,
                "severity": r.severity,
                "instructions": r.instructions(locale),
                "issuedAt": r.issued_at.isoformat(),
            }
            for r in found.recalls
        ],
    }
    return JSONResponse(body, headers=_CORS)


@router.get(
    "/api/resolver/certification-info/{tail:path}",
    summary="Standards of a published product (gs1:certificationInfo)",
)
def certification_info(request: Request, db: DB, tail: str) -> JSONResponse:
    """The standards the published product declares."""
    link = parse_request(request, "/api/resolver/certification-info")
    found = resolver_service.resolve(db, link=link)
    body = {
        "anchor": base_url(request) + found.link.path,
        "standards": found.product.get("standards") or [],
    }
    return JSONResponse(body, headers=_CORS)
