"""Suspend and reinstate organisations, products and stamps (C12).

A suspension is a status on the registry row (``Organisation.status``, ``Product.status``,
``Stamp.status``): the portal hides what is suspended and the consumer page flags it. The review
history is left alone (ADR 0013). Who may act: the review state machine's enforcers (provincial
admins, inspectors, sector reviewers), a sector reviewer only within their own sector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.authority import repository
from txng.authority.exceptions import AlreadyInState, NothingToChange
from txng.errors import N_, ErrorCollector, Forbidden, field_error
from txng.kit import gs1
from txng.models import Organisation, Product, Stamp
from txng.registry import service as registry_service
from txng.review.state import ENFORCERS

ACTIVE = "active"
SUSPENDED = "suspended"
# A stamp can be suspended while it is valid; reinstating gives back what its history says.
SUSPENDABLE_STAMPS = frozenset({"issued", "active"})
MAX_REASON = 2000
MAX_CODES = 10_000
AUDITED_SERIALS = 100  # serials listed in one audit entry; the count is always there


def is_enforcer(actor: Principal) -> bool:
    return actor.role in ENFORCERS


def check_enforcer(actor: Principal) -> None:
    """Only the authority acts: enterprises and commune officers are refused (403)."""
    if actor.role not in ENFORCERS:
        raise Forbidden()


def in_sector(actor: Principal, sector: str | None) -> bool:
    """A sector reviewer acts on their own sector only; the others on every sector."""
    if actor.role != Role.SECTOR_REVIEWER:
        return True
    return actor.sector is not None and actor.sector.value == sector


def clean_reason(reason: str | None, pointer: str = "/reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise field_error(pointer, N_("Give the reason for this decision"), "required")
    if len(text) > MAX_REASON:
        raise field_error(
            pointer,
            N_("Too long: at most %(max_length)s characters"),
            "string_too_long",
            max_length=MAX_REASON,
        )
    return text


# organisations ---------------------------------------------------------------------------


def _organisation(session: Session, actor: Principal, organisation_id: int) -> Organisation:
    check_enforcer(actor)
    org = registry_service.get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not in_sector(actor, org.sector):
        raise Forbidden()
    return org


def _set_organisation_status(
    session: Session,
    *,
    actor: Principal,
    organisation_id: int,
    reason: str | None,
    before: str,
    after: str,
    action: str,
) -> Organisation:
    org = _organisation(session, actor, organisation_id)
    text = clean_reason(reason)
    if org.status != before:
        raise AlreadyInState(params={"status": org.status})
    org.status = after
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="organisation",
        entity_id=org.id,
        organisation_id=org.id,
        before={"status": before},
        after={"status": after, "reason": text},
    )
    return org


def suspend_organisation(
    session: Session, *, actor: Principal, organisation_id: int, reason: str
) -> Organisation:
    """Suspend an active organisation: its profile and products leave the public pages."""
    return _set_organisation_status(
        session,
        actor=actor,
        organisation_id=organisation_id,
        reason=reason,
        before=ACTIVE,
        after=SUSPENDED,
        action="authority.organisation_suspended",
    )


def reinstate_organisation(
    session: Session, *, actor: Principal, organisation_id: int, reason: str
) -> Organisation:
    """Lift an organisation's suspension."""
    return _set_organisation_status(
        session,
        actor=actor,
        organisation_id=organisation_id,
        reason=reason,
        before=SUSPENDED,
        after=ACTIVE,
        action="authority.organisation_reinstated",
    )


# products --------------------------------------------------------------------------------


def _product(session: Session, actor: Principal, product_id: int) -> Product:
    check_enforcer(actor)
    # Scoped read: a sector reviewer does not even see another sector's product (404).
    product = registry_service.get_product(session, actor=actor, product_id=product_id)
    if not in_sector(actor, product.sector):
        raise Forbidden()
    return product


def _set_product_status(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    reason: str | None,
    before: str,
    after: str,
    action: str,
) -> Product:
    product = _product(session, actor, product_id)
    text = clean_reason(reason)
    if product.status != before:
        raise AlreadyInState(params={"status": product.status})
    product.status = after
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="product",
        entity_id=product.id,
        organisation_id=product.organisation_id,
        before={"status": before},
        after={"status": after, "reason": text, "gtin": product.gtin},
    )
    return product


def suspend_product(session: Session, *, actor: Principal, product_id: int, reason: str) -> Product:
    """Suspend a product: it leaves the portal and its stamps' pages say it is suspended."""
    return _set_product_status(
        session,
        actor=actor,
        product_id=product_id,
        reason=reason,
        before=ACTIVE,
        after=SUSPENDED,
        action="authority.product_suspended",
    )


def reinstate_product(
    session: Session, *, actor: Principal, product_id: int, reason: str
) -> Product:
    """Lift a product's suspension."""
    return _set_product_status(
        session,
        actor=actor,
        product_id=product_id,
        reason=reason,
        before=SUSPENDED,
        after=ACTIVE,
        action="authority.product_reinstated",
    )


# stamps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StampSelection:
    """Which stamps of one product: listed codes (serial or short code), a range, or a lot."""

    codes: Sequence[str] = ()
    first: str | None = None  # first and last code of a range, in the order of issue
    last: str | None = None
    lot: str | None = None


@dataclass
class StampsResult:
    product: Product
    changed: list[Stamp] = field(default_factory=list)
    skipped: list[Stamp] = field(default_factory=list)  # not in a status the action applies to


def _one(session: Session, product_id: int, code: str, pointer: str) -> Stamp:
    found = repository.stamps_by_codes(session, product_id, [code])
    if not found:
        raise field_error(pointer, N_("No stamp of this product has this code"), "unknown")
    return found[0]


def _select_stamps(session: Session, product: Product, selection: StampSelection) -> list[Stamp]:
    codes = [c.strip() for c in selection.codes if c.strip()]
    ranged = bool((selection.first or "").strip() or (selection.last or "").strip())
    lot = (selection.lot or "").strip()
    chosen = sum(1 for used in (bool(codes), ranged, bool(lot)) if used)
    if chosen != 1:
        raise field_error(
            "/codes", N_("Give a list of codes, a range of codes, or a lot (one of them)")
        )
    if codes:
        if len(codes) > MAX_CODES:
            raise field_error(
                "/codes",
                N_("Too many entries: at most %(max_length)s"),
                "too_long",
                max_length=MAX_CODES,
            )
        stamps = repository.stamps_by_codes(session, product.id, codes)
        known = {s.serial for s in stamps} | {s.short_code for s in stamps}
        unknown = [c for c in dict.fromkeys(codes) if c not in known]
        if unknown:
            raise field_error(
                "/codes",
                N_("Unknown codes for this product: %(codes)s"),
                "unknown",
                codes=", ".join(unknown[:10]),
            )
        return stamps
    if ranged:
        errors = ErrorCollector()
        for pointer, value in (("/first", selection.first), ("/last", selection.last)):
            if not (value or "").strip():
                errors.add(pointer, N_("This field is required"), "missing")
        errors.raise_if_any()
        first = _one(session, product.id, (selection.first or "").strip(), "/first")
        last = _one(session, product.id, (selection.last or "").strip(), "/last")
        return repository.stamps_between(session, product.id, first.id, last.id)
    stamps = repository.stamps_of_lot(session, product.id, lot)
    if not stamps:
        raise field_error("/lot", N_("No stamp of this product is on this lot"), "unknown")
    return stamps


def _change_stamps(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    selection: StampSelection,
    reason: str | None,
    suspend: bool,
) -> StampsResult:
    product = _product(session, actor, product_id)
    text = clean_reason(reason)
    result = StampsResult(product)
    before: dict[str, str] = {}
    for stamp in _select_stamps(session, product, selection):
        applies = stamp.status in SUSPENDABLE_STAMPS if suspend else stamp.status == SUSPENDED
        if not applies:
            result.skipped.append(stamp)
            continue
        before[stamp.serial] = stamp.status
        if suspend:
            stamp.status = SUSPENDED
            stamp.status_reason = text
        else:
            stamp.status = "active" if stamp.activated_at is not None else "issued"
            stamp.status_reason = None
        result.changed.append(stamp)
    if not result.changed:
        raise NothingToChange()
    session.flush()
    serials = [s.serial for s in result.changed]
    audit.record(
        session,
        actor=actor,
        action="authority.stamps_suspended" if suspend else "authority.stamps_reinstated",
        entity_type="product",
        entity_id=product.id,
        organisation_id=product.organisation_id,
        before={"statuses": dict(list(before.items())[:AUDITED_SERIALS])},
        after={
            "status": SUSPENDED if suspend else "reinstated",
            "reason": text,
            "count": len(serials),
            "serials": serials[:AUDITED_SERIALS],
            **({"lot": selection.lot.strip()} if selection.lot and selection.lot.strip() else {}),
        },
    )
    return result


def suspend_stamps(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    selection: StampSelection,
    reason: str,
) -> StampsResult:
    """Suspend a list, a range or a lot of a product's valid stamps."""
    return _change_stamps(
        session,
        actor=actor,
        product_id=product_id,
        selection=selection,
        reason=reason,
        suspend=True,
    )


def reinstate_stamps(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    selection: StampSelection,
    reason: str,
) -> StampsResult:
    """Give suspended stamps back the status they had (active once activated, else issued)."""
    return _change_stamps(
        session,
        actor=actor,
        product_id=product_id,
        selection=selection,
        reason=reason,
        suspend=False,
    )


# lookups of the forms (an inspector types a tax code or a GTIN, not a row id) ------------


def organisation_by_tax_code(session: Session, *, actor: Principal, tax_code: str) -> Organisation:
    check_enforcer(actor)
    org = repository.organisation_by_tax_code(session, (tax_code or "").strip())
    if org is None:
        raise field_error("/tax_code", N_("No organisation with this tax code is registered"))
    return org


def product_by_gtin(session: Session, *, actor: Principal, gtin: str) -> Product:
    check_enforcer(actor)
    try:
        normal = gs1.normalize_gtin(gtin or "")
    except gs1.GS1KeyError as exc:
        raise field_error("/gtin", exc.msgid, "invalid", **exc.params) from exc
    product = repository.product_by_gtin(session, normal)
    if product is None or not in_sector(actor, product.sector):
        raise field_error("/gtin", N_("No product with this GTIN is registered"), "unknown")
    return product
