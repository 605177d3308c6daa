"""The consumer page of a scanned stamp (C6): verdict, facts, journey, location, report form.

The page never waits for the scan log: the INSERT runs after the response (BackgroundTasks) in its
own transaction, and a failure there is logged, never shown. HEAD requests, prefetches, link
previews and crawlers are not counted as scans, nor are reloads of the page from itself (language
switch, sharing a location, a report).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from txng.errors import ValidationFailed
from txng.kit import i18n
from txng.kit.adminunits import admin_units
from txng.kit.ttlcache import HitsOnly, Refreshing, TTLCache
from txng.ledger import keys as ledger_keys
from txng.ledger import service as ledger_service
from txng.ledger.keys import Keyring
from txng.portal import service as portal_service
from txng.resolver import dl, links
from txng.resolver import service as resolver_service
from txng.resolver.service import NotResolved, Resolution, UnknownCode
from txng.scans import service as scans_service
from txng.scans import tasks as scans_tasks
from txng.scans.schemas import CATEGORY_LABELS, LocationIn, ReportIn
from txng.scans.verdict import RecallNotice, Rules, StampFacts, Verdict, judge
from txng.web.deps import CSRF, DB, client_ip
from txng.web.forms import field_messages, from_validation_error
from txng.web.templating import environment, render

router = APIRouter(tags=["consumer"], include_in_schema=False)

_BOTS: Final = re.compile(
    r"bot|crawl|spider|slurp|facebookexternalhit|preview|headless|curl|wget", re.IGNORECASE
)
_NOT_COUNTED_PARAMS: Final = ("located", "reported")
_FACTS: Final = "resolver/_facts_static.html"
_REPORT_FIELDS: Final = "resolver/_report_fields.html"
_BLANK: Final[dict[str, Any]] = {"errors": {}, "form": {}}


def base_url(request: Request) -> str:
    configured: str = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


@lru_cache(maxsize=4)
def commune_options(province_code: str) -> Markup:
    """The province's communes as ``<option>``s, built once: the page is rendered very often."""
    return Markup("").join(
        Markup('<option value="{}">{}</option>').format(c.code, c.name)
        for c in admin_units().communes_of(province_code)
    )


def _process_cache(request: Request) -> TTLCache[Any]:
    """The process's cache for the consumer page (see consumer_cache_seconds)."""
    return _app_cache(request, "consumer_cache", request.app.state.settings.consumer_cache_seconds)


def _app_cache(request: Request, name: str, seconds: float) -> TTLCache[Any]:
    state = request.app.state
    cache: TTLCache[Any] | None = getattr(state, name, None)
    if cache is None:
        cache = TTLCache(seconds)
        setattr(state, name, cache)
    return cache


def published_cache(request: Request) -> TTLCache[Any] | HitsOnly[Any] | Refreshing[Any]:
    """The cache of published facts read from the database (products, lots, media, seals).

    On the event loop (see ``api.resolve_gtin``) it only answers from the cache: a miss raises
    ``NotCached`` and the request is served again from a worker thread. When a value has just
    expired, that request alone refreshes it (``cache_claims``, see ``kit.ttlcache.HitsOnly``);
    the others keep being answered on the loop with the expired value meanwhile."""
    return _view(request, _process_cache(request))


def upstream_cache(request: Request) -> TTLCache[Any] | HitsOnly[Any] | Refreshing[Any]:
    """The cache of what is keyed by the ids of published events, kept longer
    (consumer_upstream_cache_seconds): the events traced upstream of a lot, and an item's own
    events (an activation's event, shared by its thousand items). Used as ``published_cache``."""
    return _view(request, _upstream_cache(request))


def _view(
    request: Request, cache: TTLCache[Any]
) -> TTLCache[Any] | HitsOnly[Any] | Refreshing[Any]:
    claims: set[Any] | None = getattr(request.state, "cache_claims", None)
    if getattr(request.state, "on_event_loop", False):
        return HitsOnly(cache, claims)
    return Refreshing(cache, claims) if claims else cache


def _upstream_cache(request: Request) -> TTLCache[Any]:
    seconds = request.app.state.settings.consumer_upstream_cache_seconds
    return _app_cache(request, "consumer_upstream_cache", seconds)


def release_cache_claims(request: Request) -> None:
    """Give up the refreshes a request claimed and did not make (it failed, or went no further).
    A claimed key is in one of the two caches; releasing it in the other does nothing."""
    claims: set[Any] | None = getattr(request.state, "cache_claims", None)
    if claims:
        _process_cache(request).release(claims)
        _upstream_cache(request).release(claims)
        claims.clear()


def ledger_keyring(request: Request) -> Keyring:
    """The ledger's keys of this app's settings, read from their files once."""
    state = request.app.state
    ring: Keyring | None = getattr(state, "ledger_keyring", None)
    if ring is None:
        ring = state.ledger_keyring = ledger_keys.load(state.settings)
    return ring


def fragment(
    request: Request,
    template: str,
    values: dict[str, Hashable],
    *,
    constants: dict[str, Any] | None = None,
) -> Markup:
    """A part of the page that depends only on ``values`` (published facts), rendered once per
    language and values in the page's cache, then reused.

    The values are the key: a change of the published facts is a new entry at once, so the
    cache never shows anything older than the facts it is given (per-request parts — verdict,
    scan history, recalls, CSRF token, a form's errors and values — are never rendered here).
    ``constants``: more of the context, the same for the whole process (labels), not in the key.
    """
    locale: str = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    key = ("html", template, locale, tuple(values.items()))
    context = {**(constants or {}), **values}

    def make() -> Markup:  # autoescaped template output: already safe HTML
        return Markup(environment(locale).get_template(template).render(context))  # noqa: S704

    try:
        hash(key)
    except TypeError:  # a snapshot field of an unexpected shape: render it, do not keep it
        return make()
    # no I/O, made anywhere: on the event loop it must not wait for a thread rendering it too
    html: Markup = _process_cache(request).get_or_make(key, make, wait=False)
    return html


def _static_parts(
    request: Request, found: Resolution, certifications: tuple[tuple[Any, ...], ...]
) -> dict[str, Markup]:
    """The facts, certificates and journey of the page (see ``fragment``)."""
    product = found.product
    standards = product.get("standards") or ()
    parts = {
        "maker": fragment(
            request,
            _FACTS,
            {
                "part": "maker",
                "producer_name": found.producer_name,
                "producer_address": found.producer_address,
                "brand": product.get("brand"),
                "gtin": product.get("gtin"),
                "lot": found.lot,
            },
        ),
        "content": fragment(
            request,
            _FACTS,
            {
                "part": "content",
                "net_content": product.get("net_content"),
                "net_content_unit": product.get("net_content_unit"),
            },
        ),
        "standards": fragment(
            request,
            _FACTS,
            {
                "part": "standards",
                "standards": tuple(standards),
                "geographical_indication": product.get("geographical_indication"),
                "sscc": found.link.key if found.kind == "logistic_unit" else None,
            },
        ),
        "certificates": Markup(""),
        "journey": Markup(""),
    }
    if certifications:
        parts["certificates"] = fragment(
            request, "resolver/_certificates.html", {"certifications": certifications}
        )
    if found.kind in ("lot", "item", "logistic_unit"):
        parts["journey"] = fragment(request, "resolver/_journey.html", {"events": found.events})
    return parts


def seal_of_product(request: Request, db: Session, product_id: int | None) -> dict[str, Any] | None:
    """The ledger seal of the product's published version, checked against today's rows.

    Cached like the other published facts: a record changed behind the ledger's back shows as
    tampered within ``consumer_cache_seconds``.
    """
    if product_id is None:
        return None
    seal: dict[str, Any] | None = published_cache(request).get_or_make(
        ("seal", product_id),
        lambda: ledger_service.seal_context(
            db, kind="product", ref=str(product_id), keyring=ledger_keyring(request)
        ),
    )
    return seal


def visitor(request: Request) -> str:
    """The salted hash of the caller's IP address (the salt is never stored with it)."""
    known: str | None = getattr(request.state, "visitor", None)
    if known is not None:
        return known
    state = request.app.state
    salt: str | None = getattr(state, "scan_ip_salt", None)
    if salt is None:
        settings = state.settings
        salt = settings.scan_ip_salt or f"scan:{settings.resolved_secret()}"
        state.scan_ip_salt = salt
    request.state.visitor = scans_service.hash_ip(salt, client_ip(request))
    return request.state.visitor  # type: ignore[no-any-return]


def counts_as_scan(request: Request) -> bool:
    """A person opening the page, not a prefetch, a crawler or the page reloading itself."""
    if request.method != "GET":
        return False
    headers = request.headers
    purpose = (headers.get("purpose", "") + headers.get("sec-purpose", "")).lower()
    if "prefetch" in purpose or "prerender" in purpose or headers.get("x-moz") == "prefetch":
        return False
    if _BOTS.search(headers.get("user-agent", "")):
        return False
    if any(name in request.query_params for name in _NOT_COUNTED_PARAMS):
        return False
    referer = headers.get("referer")
    return not (referer and urlsplit(referer).path == request.url.path)


def _rules(request: Request) -> Rules:
    settings = request.app.state.settings
    return Rules(settings.scan_suspicious_count, settings.scan_max_speed_kmh)


def verdict_of(
    request: Request, db: Session, found: Resolution, *, now: datetime
) -> Verdict | None:
    """The banner: for a stamp always; for other links only when something is wrong."""
    locale = request.state.locale
    recalls = tuple(
        RecallNotice(r.reason, r.severity, r.instructions(locale), r.issued_at)
        for r in found.recalls
    )
    facts = StampFacts(
        product_suspended=found.product_suspended,
        organisation_suspended=found.organisation_suspended,
        recalls=recalls,
        produced_at=found.produced_at,
        shelf_life_days=found.product.get("shelf_life_days"),
    )
    stamp = found.stamp
    if stamp is None:
        verdict = judge(facts, now=now, rules=_rules(request))
        return None if verdict.tone == "green" else verdict
    history = scans_service.history(db, stamp_id=stamp.id, ip_hash=visitor(request), now=now)
    facts = StampFacts(
        status=stamp.status,
        status_reason=stamp.status_reason,
        product_suspended=found.product_suspended,
        organisation_suspended=found.organisation_suspended,
        recalls=recalls,
        produced_at=found.produced_at,
        shelf_life_days=found.product.get("shelf_life_days"),
        scans_before=history.scans_before,
        first_scan=history.first_scan,
        located_scans=history.located,
    )
    return judge(facts, now=now, rules=_rules(request))


def consumer_page(
    request: Request,
    db: Session,
    found: Resolution,
    *,
    context: dict[str, Any],
    background: BackgroundTasks | None = None,
    status_code: int = 200,
) -> Response:
    """Render the consumer page; log the scan after the response when it counts as one."""
    now = datetime.now(UTC)
    verdict = verdict_of(request, db, found, now=now)
    settings = request.app.state.settings
    certifications: tuple[tuple[Any, ...], ...] = ()
    image_ids: list[int] = []
    product_id = found.product_id
    if product_id is not None:
        today = i18n.today_local()
        cache = published_cache(request)
        # What the reviewer approved, not what has been declared since.
        certs, image_ids = cache.get_or_make(
            ("media", product_id),
            lambda: portal_service.published_media(db, product_id=product_id),
        )
        certifications = tuple(
            (
                c.scheme,
                c.number,
                c.issuer,
                c.valid_from,
                c.valid_to,
                c.valid_from <= today <= c.valid_to,
            )
            for c in certs
        )
    page_links = {item.rel: item for item in links.links(found, base_url(request))}
    ctx: dict[str, Any] = {
        "found": found,
        "links": page_links,
        "static": _static_parts(request, found, certifications),
        "verdict": verdict,
        "seal": seal_of_product(request, db, product_id),
        "certifications": certifications,
        "image_ids": image_ids,
        "commune_options": commune_options(settings.province_code),
        "categories": CATEGORY_LABELS,
        "logo_url": settings.province_logo_url,
        "located": "located" in request.query_params,
        **context,
    }
    if not ctx.get("errors") and not ctx.get("form"):  # the blank form: the same for everyone
        ctx["report_fields"] = fragment(
            request, _REPORT_FIELDS, {}, constants={"categories": CATEGORY_LABELS, **_BLANK}
        )
    stamp = found.stamp
    if stamp is not None and background is not None and counts_as_scan(request):
        ip_hash = visitor(request)
        # One address adds at most scans_per_minute to the counts: the page is still shown.
        if request.app.state.scan_limiter.allow(ip_hash):
            background.add_task(
                scans_tasks.log_scan,
                request.app.state.sessionmaker,
                stamp_id=stamp.id,
                ip_hash=ip_hash,
                at=now,
            )
    return render(request, "resolver/product.html", ctx, status_code=status_code)


def unknown_page(request: Request, link: dl.DigitalLink) -> Response:
    """404 for a serial we never issued: it must stand out (a possible counterfeit)."""
    verdict = judge(StampFacts(known=False), now=datetime.now(UTC), rules=_rules(request))
    ctx = {"link": link, "verdict": verdict, "categories": CATEGORY_LABELS}
    return render(request, "resolver/unknown.html", ctx, status_code=404)


# the consumer's forms -------------------------------------------------------------------------


def _link_of(value: object) -> dl.DigitalLink:
    path = value if isinstance(value, str) else ""
    path, _, query = path.partition("?")
    try:
        return dl.parse(path, query)
    except dl.DigitalLinkError as exc:
        raise NotResolved() from exc


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@router.get("/tem/giao-dien.css")
def theme(request: Request) -> Response:
    """The province's colour for the consumer page (a stylesheet: inline styles are not allowed)."""
    colour = request.app.state.settings.province_colour
    css = f":root{{--brand:{colour};}}\n"
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(css, media_type="text/css", headers=headers)


@router.post("/tem/vi-tri", dependencies=[CSRF])
async def share_location(request: Request, db: DB) -> Response:
    """The consumer agreed to share a coarse location for their scan."""
    form = await request.form()
    link = _link_of(form.get("link"))
    found = resolver_service.resolve(db, link=link)
    values = {
        "commune_code": _text(form.get("commune_code")) or None,
        "latitude": _text(form.get("latitude")) or None,
        "longitude": _text(form.get("longitude")) or None,
    }
    try:
        location = LocationIn.model_validate(values)
        if found.stamp is not None:
            scans_service.share_location(
                db,
                stamp_id=found.stamp.id,
                ip_hash=visitor(request),
                location=location,
                now=datetime.now(UTC),
            )
    except (ValidationError, ValidationFailed) as exc:
        failed = from_validation_error(exc) if isinstance(exc, ValidationError) else exc
        errors = {
            f"location_{k}": v for k, v in field_messages(request.state.locale, failed).items()
        }
        return consumer_page(request, db, found, context={"errors": errors}, status_code=422)
    return RedirectResponse(f"{link.path}?located=1#scan", status_code=303)


@router.post("/tem/bao-cao-van-de", dependencies=[CSRF])
async def report_problem(request: Request, db: DB) -> Response:
    """A consumer's problem report: a case for the authority (rate-limited per IP hash)."""
    settings = request.app.state.settings
    form = await request.form()
    link = _link_of(form.get("link"))
    try:
        found: Resolution | None = resolver_service.resolve(db, link=link)
    except UnknownCode:
        found = None  # a report about a code we never issued is the most useful kind
    values = {
        "category": _text(form.get("category")),
        "message": _text(form.get("message")),
        "contact": _text(form.get("contact")),
    }
    upload = form.get("photo")
    photo = None
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read(settings.max_image_bytes + 1)
            photo = scans_service.Photo(data, upload.filename)
    finally:
        await form.close()
    subject = scans_service.Subject(
        link=link.path,
        stamp_id=found.stamp.id if found and found.stamp else None,
        organisation_id=found.organisation_id if found else None,
        product_id=found.product_id if found else None,
    )
    try:
        report = ReportIn.model_validate(values)
        scans_service.report_problem(
            db,
            subject=subject,
            report=report,
            photo=photo,
            ip_hash=visitor(request),
            now=datetime.now(UTC),
            per_hour=settings.problem_reports_per_hour,
            media_dir=settings.media_dir,
            max_photo_bytes=settings.max_image_bytes,
        )
    except (ValidationError, ValidationFailed) as exc:
        db.rollback()
        failed = from_validation_error(exc) if isinstance(exc, ValidationError) else exc
        ctx = {"errors": field_messages(request.state.locale, failed), "form": values}
        if found is None:
            return _unknown_with(request, link, ctx)
        return consumer_page(request, db, found, context=ctx, status_code=422)
    return render(request, "resolver/report_sent.html", {"link": link}, status_code=201)


def _unknown_with(request: Request, link: dl.DigitalLink, ctx: dict[str, Any]) -> Response:
    verdict = judge(StampFacts(known=False), now=datetime.now(UTC), rules=_rules(request))
    full = {"link": link, "verdict": verdict, "categories": CATEGORY_LABELS, **ctx}
    return render(request, "resolver/unknown.html", full, status_code=422)
