"""Stamps (C5): request, review, issuance in chunks, activation on a lot, status changes.

A request goes through review (entity type ``stamp_request``); the review service calls
:func:`on_review` when it is decided. Approval issues the codes: at once for small requests,
otherwise in a background thread with its own session once the approval is committed, chunk by
chunk, so that the request page can show the progress.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.db import session_scope
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.errors import N_, Forbidden, NotFound, ValidationFailed, field_error
from txng.kit.i18n import DISPLAY_TZ, today_local
from txng.models import Product, ReviewItem, Stamp, StampRequest
from txng.models.base import utcnow
from txng.review import repository as review_repository
from txng.review import service as review_service
from txng.review.state import Action
from txng.stamps import codes, repository
from txng.stamps.exceptions import RequestStateConflict, StampNotFound, StampStateConflict
from txng.stamps.schemas import MAX_SELECTION, ActivationIn, StampRequestIn

log = logging.getLogger(__name__)

ENTITY_TYPE = "stamp_request"
CHUNK = 5000  # stamps per INSERT statement and per committed step of a background issuance
INLINE_ISSUE_MAX = 5000  # up to this many, approval issues the codes in its own transaction
EVENT_EPCS = 1000  # EPCs per commissioning event of an activation
_INSERT_TRIES = 5
_SYSTEM = Principal(role=Role.SYSTEM_ADMIN, label="system")


@dataclass(frozen=True)
class Limits:
    per_request: int
    per_day: int


# visibility ------------------------------------------------------------------------------


def _may_see(actor: Principal, organisation_id: int, sector: str | None) -> bool:
    if actor.sees_everything:
        return True
    if actor.is_enterprise:
        return actor.organisation_id == organisation_id
    if actor.role == Role.SECTOR_REVIEWER and actor.sector is not None:
        return sector == actor.sector.value
    return False


def _product(session: Session, product_id: int) -> Product:
    product = repository.product(session, product_id)
    if product is None:
        raise NotFound()
    return product


def get_request(session: Session, *, actor: Principal, request_id: int) -> StampRequest:
    req = repository.request(session, request_id)
    if req is None:
        raise NotFound()
    product = _product(session, req.product_id)
    if not _may_see(actor, req.organisation_id, product.sector):
        raise NotFound()
    return req


def list_requests(
    session: Session, *, actor: Principal, page: int = 1, per_page: int = 50
) -> tuple[list[StampRequest], int]:
    """The caller's organisation's requests, newest first (authorities: every request)."""
    if actor.is_enterprise:
        if actor.organisation_id is None:
            return [], 0
        return repository.requests_of(session, actor.organisation_id, page=page, per_page=per_page)
    if not actor.sees_everything:
        raise Forbidden()
    return repository.requests_of(session, None, page=page, per_page=per_page)


def product_of(session: Session, *, actor: Principal, request: StampRequest) -> Product:
    product = _product(session, request.product_id)
    if not _may_see(actor, request.organisation_id, product.sector):
        raise NotFound()
    return product


def review_item_of(session: Session, request_id: int) -> ReviewItem | None:
    versions = review_repository.versions_of(session, ENTITY_TYPE, request_id)
    return versions[0] if versions else None


# requests --------------------------------------------------------------------------------


def _day_start() -> datetime:
    return datetime.combine(today_local(), time(0), DISPLAY_TZ)


def request_stamps(
    session: Session, *, actor: Principal, data: StampRequestIn, limits: Limits
) -> StampRequest:
    """Ask for N stamps of one of the organisation's own products; it goes to review."""
    if not actor.is_enterprise or actor.organisation_id is None:
        raise Forbidden(N_("Only an organisation's users and API keys can request stamps"))
    product = repository.product(session, data.product_id)
    if product is None or product.organisation_id != actor.organisation_id:
        raise field_error("/product_id", N_("Choose one of your own products"), "not_found")
    if data.quantity > limits.per_request:
        raise field_error(
            "/quantity",
            N_("At most %(limit)s stamps per request"),
            "limit",
            limit=limits.per_request,
        )
    already = repository.requested_since(session, actor.organisation_id, _day_start())
    if already + data.quantity > limits.per_day:
        raise field_error(
            "/quantity",
            N_("At most %(limit)s stamps per day: %(already)s already requested today"),
            "daily_limit",
            limit=limits.per_day,
            already=already,
        )
    org = repository.organisation(session, actor.organisation_id)
    if data.lot is not None:
        identifiers.lgtin_dl(product.gtin, data.lot)  # the pattern already holds: a check
    req = StampRequest(
        organisation_id=actor.organisation_id,
        product_id=product.id,
        lot=data.lot,
        quantity=data.quantity,
        label_template=data.label_template,
        with_pin=data.with_pin,
        state="submitted",
        issued_count=0,
        requested_by_user_id=actor.user_id,
        requested_at=utcnow(),
    )
    repository.add(session, req)
    session.flush()
    review_service.submit(
        session,
        actor=actor,
        entity_type=ENTITY_TYPE,
        entity_id=req.id,
        organisation_id=req.organisation_id,
        sector=product.sector,
        commune_code=None,  # commune officers do not decide on stamps
        snapshot={
            "product": product.name_vi,
            "gtin": product.gtin,
            "quantity": req.quantity,
            "lot": req.lot,
            "label_template": req.label_template,
            "with_pin": req.with_pin,
            "organisation": org.name if org else "",
        },
    )
    audit.record(
        session,
        actor=actor,
        action="stamps.requested",
        entity_type=ENTITY_TYPE,
        entity_id=req.id,
        organisation_id=req.organisation_id,
        after={"product_id": product.id, "quantity": req.quantity, "lot": req.lot},
    )
    return req


def on_review(session: Session, item: ReviewItem, action: Action) -> None:
    """Called by the review service when a stamp request's review item changes state."""
    req = repository.request(session, item.entity_id)
    if req is None:
        return
    before = req.state
    if action == Action.APPROVE and req.state == "submitted":
        req.state = "approved"
        req.decided_at = utcnow()
    elif action == Action.REJECT and req.state == "submitted":
        req.state = "rejected"
        req.reason = item.reason
        req.decided_at = utcnow()
    elif action == Action.WITHDRAW and req.state == "submitted":
        req.state = "withdrawn"
    else:
        return
    audit.record(
        session,
        actor=None,
        action=f"stamps.request_{req.state}",
        entity_type=ENTITY_TYPE,
        entity_id=req.id,
        organisation_id=req.organisation_id,
        before={"state": before},
        after={"state": req.state, **({"reason": req.reason} if req.reason else {})},
    )
    if req.state == "approved":
        if req.quantity <= INLINE_ISSUE_MAX:
            issue_stamps(session, request_id=req.id)
        else:
            _issue_after_commit(session, req.id)


# issuance --------------------------------------------------------------------------------


def _rows(req: StampRequest, gtin: str, n: int) -> list[dict[str, Any]]:
    serials: set[str] = set()
    shorts: set[str] = set()
    while len(serials) < n:
        serials.add(codes.new_serial())
    while len(shorts) < n:
        shorts.add(codes.new_short_code())
    now = utcnow()
    return [
        {
            "request_id": req.id,
            "organisation_id": req.organisation_id,
            "product_id": req.product_id,
            "gtin": gtin,
            "serial": serial,
            "short_code": short,
            "pin": codes.new_pin() if req.with_pin else None,
            "lot": req.lot,
            "status": "issued",
            "issued_at": now,
        }
        for serial, short in zip(serials, shorts, strict=True)
    ]


def _issue_chunk(session: Session, req: StampRequest, gtin: str, n: int) -> None:
    """Insert ``n`` fresh stamps; on a (very unlikely) collision of a serial or short code
    with a stored one, draw the chunk again."""
    for attempt in range(_INSERT_TRIES):
        rows = _rows(req, gtin, n)
        try:
            with session.begin_nested():
                repository.insert_stamps(session, rows)
        except (IntegrityError, psycopg.errors.UniqueViolation):  # INSERT, or COPY on the driver
            log.warning("stamp code collision, drawing again (attempt %s)", attempt + 1)
            continue
        req.issued_count += n
        session.flush()
        return
    raise RuntimeError("could not draw unique stamp codes")  # pragma: no cover


def _finish(session: Session, req: StampRequest) -> None:
    req.state = "issued"
    req.issued_at = utcnow()
    audit.record(
        session,
        actor=None,
        action="stamps.issued",
        entity_type=ENTITY_TYPE,
        entity_id=req.id,
        organisation_id=req.organisation_id,
        after={"state": "issued", "issued": req.issued_count},
    )


def issue_stamps(session: Session, *, request_id: int, chunk: int = CHUNK) -> StampRequest:
    """Issue the codes of an approved request that are still missing, in the caller's
    transaction, ``chunk`` rows per INSERT."""
    req = repository.request_for_update(session, request_id)
    if req is None:
        raise NotFound()
    if req.state not in ("approved", "issuing", "failed"):
        raise RequestStateConflict(params={"state": req.state})
    gtin = _product(session, req.product_id).gtin
    req.state = "issuing"
    while (left := req.quantity - req.issued_count) > 0:
        _issue_chunk(session, req, gtin, min(chunk, left))
    _finish(session, req)
    return req


_running: set[int] = set()
_running_lock = threading.Lock()


def _issue_after_commit(session: Session, request_id: int) -> None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine

    def start(_session: Session) -> None:
        start_background_issuance(engine, request_id)

    event.listen(session, "after_commit", start, once=True)


def start_background_issuance(engine: Engine, request_id: int) -> threading.Thread | None:
    """Issue a request's missing codes in a thread of its own, one committed chunk at a time
    (nothing happens when a thread of this process already does it)."""
    with _running_lock:
        if request_id in _running:
            return None
        _running.add(request_id)
    thread = threading.Thread(
        target=_issue_in_background,
        args=(engine, request_id),
        name=f"stamps-issue-{request_id}",
        daemon=True,
    )
    thread.start()
    return thread


def is_issuing_here(request_id: int) -> bool:
    with _running_lock:
        return request_id in _running


def _issue_in_background(engine: Engine, request_id: int, chunk: int = CHUNK) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    try:
        while True:
            with session_scope(factory) as session:
                req = repository.request_for_update(session, request_id)
                if req is None or req.state not in ("approved", "issuing"):
                    return
                left = req.quantity - req.issued_count
                if left <= 0:
                    _finish(session, req)
                    return
                req.state = "issuing"
                gtin = _product(session, req.product_id).gtin
                _issue_chunk(session, req, gtin, min(chunk, left))
    except Exception:
        log.exception("issuing the stamps of request %s failed", request_id)
        with session_scope(factory) as session:
            req = repository.request(session, request_id)
            if req is not None:
                req.state = "failed"
    finally:
        with _running_lock:
            _running.discard(request_id)


def resume(session: Session, *, actor: Principal, request_id: int) -> StampRequest:
    """Start again the issuance of an approved request that stopped (e.g. after a restart)."""
    req = get_request(session, actor=actor, request_id=request_id)
    if req.state not in ("approved", "issuing", "failed"):
        raise RequestStateConflict(params={"state": req.state})
    if not is_issuing_here(req.id):
        if req.state == "failed":
            req.state = "issuing"
        _issue_after_commit(session, req.id)
    return req


# activation ------------------------------------------------------------------------------


def _own_stamps(actor: Principal, wanted: Sequence[str], found: Sequence[Stamp]) -> list[Stamp]:
    """The stamps in the order asked for; 404 for a code that is not one of the caller's."""
    by_code: dict[str, Stamp] = {}
    for s in found:
        if s.organisation_id == actor.organisation_id:
            by_code[s.short_code] = s
            by_code[s.serial] = s
    out: list[Stamp] = []
    seen: set[int] = set()
    for raw, code in zip(wanted, (codes.normalize_code(w) for w in wanted), strict=True):
        stamp = by_code.get(code)
        if stamp is None:
            raise StampNotFound(params={"code": raw})
        if stamp.id not in seen:
            seen.add(stamp.id)
            out.append(stamp)
    return out


def find_stamps(session: Session, *, actor: Principal, codes_: Sequence[str]) -> list[Stamp]:
    """The caller's stamps named by short code or serial (404 for any other code)."""
    wanted = [c for c in (w.strip() for w in codes_) if c]
    normalised = sorted({codes.normalize_code(c) for c in wanted})
    return _own_stamps(actor, wanted, repository.stamps_by_codes(session, normalised))


def _selected(session: Session, actor: Principal, data: ActivationIn) -> list[Stamp]:
    if data.codes is not None:
        return find_stamps(session, actor=actor, codes_=data.codes)
    if data.first is not None and data.last is not None:
        ends = find_stamps(session, actor=actor, codes_=[data.first, data.last])
        first, last = ends[0], ends[-1]
        if first.request_id != last.request_id:
            raise field_error(
                "/last", N_("The first and last stamps must come from the same request"), "range"
            )
        low, high = sorted((first.id, last.id))
        stamps = repository.stamps_between(session, first.request_id, low, high)
        if len(stamps) > MAX_SELECTION:
            raise field_error(
                "/last",
                N_("At most %(limit)s stamps at a time"),
                "too_many",
                limit=MAX_SELECTION,
            )
        return stamps
    if data.request_id is None or data.count is None:  # pragma: no cover - the schema checks
        raise field_error("/count", N_("This field is required"), "missing")
    req = get_request(session, actor=actor, request_id=data.request_id)
    if not actor.is_enterprise or req.organisation_id != actor.organisation_id:
        raise NotFound()
    stamps = repository.next_unactivated(session, req.id, data.count)
    if len(stamps) < data.count:
        raise field_error(
            "/count",
            N_("Only %(available)s stamps of this request are not yet activated"),
            "too_many",
            available=len(stamps),
        )
    return stamps


@dataclass(frozen=True)
class Capacity:
    quantity: float
    uom: str | None
    units_per_stamp: int
    capacity: int
    carried: int


def lot_capacity(session: Session, *, product: Product, lot: str) -> Capacity | None:
    """How many stamps a lot may carry (its declared quantity / units per stamp), and how many
    it carries; None when no quantity was declared for the lot."""
    declared = repository.declared_lot_quantity(
        session, product.organisation_id, identifiers.lgtin_dl(product.gtin, lot)
    )
    if declared is None:
        return None
    quantity, uom = declared
    per = max(product.units_per_stamp or 1, 1)
    return Capacity(
        quantity,
        uom,
        per,
        math.floor(quantity / per + 1e-9),
        repository.carried_on_lot(session, product.gtin, lot),
    )


@dataclass(frozen=True)
class Activation:
    lot: str
    stamps: list[Stamp]
    event_ids: list[str]
    capture_id: str
    capacity: Capacity


def commissioning_event(
    gtin: str, lot: str, serials: Sequence[str], at: datetime
) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": at.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": at.strftime("%z")[:3] + ":" + at.strftime("%z")[3:],
        "epcList": [identifiers.sgtin_dl(gtin, s) for s in serials],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "ilmd": {"cbvmda:lotNumber": lot},
    }


def activate(
    session: Session, *, actor: Principal, data: ActivationIn, now: datetime | None = None
) -> Activation:
    """Link stamps to a lot of their product, within the lot's declared quantity, and record
    it as an EPCIS commissioning event (which goes through review like every event)."""
    capture_service.check_may_capture(actor)
    stamps = _selected(session, actor, data)
    gtins = {s.gtin for s in stamps}
    if len(gtins) != 1:
        raise field_error("/codes", N_("These stamps belong to different products"), "products")
    for s in stamps:
        if s.status != "issued":
            raise StampStateConflict(
                params={"code": codes.format_short_code(s.short_code), "status": s.status}
            )
        if s.lot is not None and s.lot != data.lot:
            raise field_error(
                "/lot",
                N_("Stamp %(stamp)s was printed for lot %(printed)s"),
                "printed_lot",
                stamp=codes.format_short_code(s.short_code),
                printed=s.lot,
            )
    product = _product(session, stamps[0].product_id)
    capacity = lot_capacity(session, product=product, lot=data.lot)
    if capacity is None:
        raise field_error(
            "/lot",
            N_(
                "No quantity has been recorded for lot %(lot)s of this product: record its "
                "harvest or packing in the diary first"
            ),
            "no_quantity",
            lot=data.lot,
        )
    if capacity.carried + len(stamps) > capacity.capacity:
        raise field_error(
            "/lot",
            N_(
                "Lot %(lot)s covers at most %(capacity)s stamps (%(quantity)s %(uom)s, "
                "%(per)s per stamp) and already carries %(carried)s: %(asked)s more is too many"
            ),
            "over_quantity",
            lot=data.lot,
            capacity=capacity.capacity,
            quantity=f"{capacity.quantity:g}",
            uom=capacity.uom or "",
            per=capacity.units_per_stamp,
            carried=capacity.carried,
            asked=len(stamps),
        )
    at = (now or utcnow()).astimezone(DISPLAY_TZ)
    groups = [stamps[i : i + EVENT_EPCS] for i in range(0, len(stamps), EVENT_EPCS)]
    events = [
        commissioning_event(product.gtin, data.lot, [s.serial for s in g], at) for g in groups
    ]
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": at.isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": events},
    }
    outcome = capture_service.capture(session, actor, document, source="stamps", now=now)
    if outcome.errors:
        raise ValidationFailed(errors=outcome.errors)
    activated_at = now or utcnow()
    for group, ev in zip(groups, events, strict=True):
        repository.set_status(
            session,
            [s.id for s in group],
            {
                "lot": data.lot,
                "status": "active",
                "activated_at": activated_at,
                "activation_event_id": ev["eventID"],
                "status_reason": None,
            },
        )
    _audit_change(session, actor, stamps, "stamps.activated", {"lot": data.lot})
    return Activation(
        data.lot,
        stamps,
        [e["eventID"] for e in events],
        outcome.job.capture_id,
        Capacity(
            capacity.quantity,
            capacity.uom,
            capacity.units_per_stamp,
            capacity.capacity,
            capacity.carried + len(stamps),
        ),
    )


def _audit_change(
    session: Session,
    actor: Principal,
    stamps: Sequence[Stamp],
    action: str,
    extra: dict[str, Any],
) -> None:
    """One audit entry per request touched, naming every stamp changed."""
    by_request: dict[int, list[Stamp]] = {}
    for s in stamps:
        by_request.setdefault(s.request_id, []).append(s)
    for request_id, group in by_request.items():
        audit.record(
            session,
            actor=actor,
            action=action,
            entity_type=ENTITY_TYPE,
            entity_id=request_id,
            organisation_id=group[0].organisation_id,
            before={"status": sorted({s.status for s in group})},
            after={**extra, "serials": [s.serial for s in group]},
        )


# status changes --------------------------------------------------------------------------

# status wanted → the statuses it may come from
_FROM: dict[str, tuple[str, ...]] = {
    "deactivated": ("issued", "active", "lost", "suspended"),
    "lost": ("issued", "active"),
    "suspended": ("issued", "active", "lost"),
}
ACTION_STATUS = {"deactivate": "deactivated", "lost": "lost", "suspend": "suspended"}


def change_status(
    session: Session,
    *,
    actor: Principal,
    action: str,
    codes_: Sequence[str],
    reason: str,
) -> list[Stamp]:
    """Deactivate or report lost (the owner), or suspend (an authority), with a reason."""
    status = ACTION_STATUS.get(action)
    if status is None:
        raise field_error("/action", N_("Choose one of the options"), "enum")
    reason = reason.strip()
    if not reason:
        raise field_error("/reason", N_("Give the reason for this decision"), "required")
    if status == "suspended":
        stamps = _authority_stamps(session, actor, codes_)
    else:
        if not actor.is_enterprise:
            raise Forbidden()
        stamps = find_stamps(session, actor=actor, codes_=codes_)
    for s in stamps:
        if s.status not in _FROM[status]:
            raise StampStateConflict(
                params={"code": codes.format_short_code(s.short_code), "status": s.status}
            )
    _audit_change(session, actor, stamps, f"stamps.{status}", {"status": status, "reason": reason})
    repository.set_status(
        session, [s.id for s in stamps], {"status": status, "status_reason": reason}
    )
    return stamps


def _authority_stamps(session: Session, actor: Principal, codes_: Sequence[str]) -> list[Stamp]:
    enforcer = actor.sees_everything or actor.role == Role.SECTOR_REVIEWER
    if not enforcer:
        raise Forbidden()
    wanted = [c for c in (w.strip() for w in codes_) if c]
    found = repository.stamps_by_codes(session, sorted({codes.normalize_code(c) for c in wanted}))
    sectors = {pid: _product(session, pid).sector for pid in {s.product_id for s in found}}
    visible = [s for s in found if _may_see(actor, s.organisation_id, sectors[s.product_id])]
    by_code = {c: s for s in visible for c in (s.short_code, s.serial)}
    out: dict[int, Stamp] = {}
    for raw in wanted:
        stamp = by_code.get(codes.normalize_code(raw))
        if stamp is None:
            raise NotFound(N_("No stamp has the code %(code)s"), params={"code": raw})
        out[stamp.id] = stamp
    return list(out.values())


# reading ---------------------------------------------------------------------------------


def stamps_page(
    session: Session, *, actor: Principal, request_id: int, after_id: int = 0, limit: int = 100
) -> list[Stamp]:
    req = get_request(session, actor=actor, request_id=request_id)
    return repository.stamps_of_request(session, req.id, after_id=after_id, limit=limit)


def get_stamp(session: Session, *, actor: Principal, stamp_id: int) -> Stamp:
    stamp = repository.stamp(session, stamp_id)
    if stamp is None:
        raise NotFound()
    get_request(session, actor=actor, request_id=stamp.request_id)
    return stamp


def status_counts(session: Session, *, actor: Principal, request_id: int) -> dict[str, int]:
    req = get_request(session, actor=actor, request_id=request_id)
    return repository.status_counts(session, req.id)


def printed_uri(base_url: str, stamp: Stamp, request_lot: str | None) -> str:
    """The URI the stamp's QR carries: with the lot only when the request printed one."""
    return codes.stamp_uri(base_url, stamp.gtin, stamp.serial, request_lot)


def iter_stamps(session: Session, *, request_id: int) -> Iterator[Stamp]:
    """Every stamp of a request in issue order, read in chunks (for files of any size)."""
    return repository.iter_stamps(session, request_id)


def label_text(session: Session, *, request: StampRequest) -> tuple[str, str, str]:
    """(GTIN, product name in Vietnamese, producer name) printed on the request's labels."""
    product = _product(session, request.product_id)
    org = repository.organisation(session, request.organisation_id)
    return product.gtin, product.name_vi, org.name if org else ""
