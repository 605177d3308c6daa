"""Recall lots (C12): the scope comes from the trace engine and is stored as recall targets.

One ``Recall`` per lot; its targets are the lot itself, everything the forward trace reaches
(lots, items, logistic units, each with the organisation that last recorded it), every stamp on
the recalled and downstream lots, and the organisations that received the goods (kind
``party``). The consumer page asks ``repository.recalls_affecting`` with the stamp's item and lot
identifiers, so a recall shows on every affected page as soon as it is committed. The events stay
public: a recall is an overlay on the journey, not a rewrite of it (ADR 0013).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.authority.service import check_enforcer, clean_reason, in_sector
from txng.epcis import identifiers
from txng.errors import N_, Conflict, ErrorCollector, NotFound
from txng.kit import gs1
from txng.ledger import outbox as ledger_outbox
from txng.ledger import records as ledger_records
from txng.models import Product, Recall, RecallTarget
from txng.models.base import utcnow
from txng.recalls import repository
from txng.review import service as review_service
from txng.trace import recall as trace_recall

ACTIVE = "active"
LIFTED = "lifted"
SEVERITIES = {
    "high": N_("High: stop using the product at once"),
    "medium": N_("Medium: the product may be unsafe"),
    "low": N_("Low: a defect without a health risk"),
}
SEVERITY_SHORT = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
KINDS = ("lot", "item", "logistic_unit", "stamp", "party")
MAX_LINES = 50
MAX_INSTRUCTIONS = 4000
# The scope is computed on the system's behalf: a recall reaches everything, whoever issues it.
_TRACER = Principal(role=Role.SYSTEM_ADMIN, label="recall scope")


@dataclass(frozen=True)
class RecallLine:
    gtin: str
    lot: str


@dataclass(frozen=True)
class _Checked:
    product: Product
    gtin: str
    lot: str
    lot_ident: str


def _check_line(
    session: Session,
    actor: Principal,
    line: RecallLine,
    prefix: str,
    errors: ErrorCollector,
    seen: set[tuple[str, str]],
) -> _Checked | None:
    gtin = ""
    product: Product | None = None
    try:
        gtin = gs1.normalize_gtin(line.gtin or "")
    except gs1.GS1KeyError as exc:
        errors.add(f"{prefix}/gtin", exc.msgid, "invalid", **exc.params)
    else:
        product = repository.product_by_gtin(session, gtin)
        if product is None or not in_sector(actor, product.sector):
            # Another sector's product is as unknown to a sector reviewer as a missing one.
            errors.add(f"{prefix}/gtin", N_("No product with this GTIN is registered"), "unknown")
            product = None
    lot = (line.lot or "").strip()
    lot_ident = ""
    if not lot:
        errors.add(f"{prefix}/lot", N_("This field is required"), "missing")
    else:
        try:
            lot_ident = identifiers.lgtin_dl(gtin or "0" * 14, lot)
        except identifiers.IdentifierError:
            errors.add(
                f"{prefix}/lot",
                N_("A lot number has at most 20 letters, digits or GS1 symbols"),
                "invalid",
            )
            lot = ""
    if product is None or not lot:
        return None
    if (gtin, lot) in seen:
        errors.add(f"{prefix}/lot", N_("This lot is already listed above"), "duplicate")
        return None
    seen.add((gtin, lot))
    if any(
        r.gtin == gtin and r.lot == lot for r in repository.recalls_affecting(session, [lot_ident])
    ):
        errors.add(f"{prefix}/lot", N_("This lot is already recalled"), "conflict")
        return None
    return _Checked(product, gtin, lot, lot_ident)


def _check_common(
    errors: ErrorCollector, *, reason: str, severity: str, instructions_vi: str
) -> str:
    text = (reason or "").strip()
    if not text:
        errors.add("/reason", N_("Give the reason for this decision"), "required")
    if severity not in SEVERITIES:
        errors.add("/severity", N_("Choose one of the options"), "enum")
    if not (instructions_vi or "").strip():
        errors.add("/instructions_vi", N_("Tell consumers what to do"), "required")
    for pointer, value in (("/instructions_vi", instructions_vi), ("/reason", reason)):
        if len(value or "") > MAX_INSTRUCTIONS:
            errors.add(
                pointer,
                N_("Too long: at most %(max_length)s characters"),
                "string_too_long",
                max_length=MAX_INSTRUCTIONS,
            )
    return text


def recall_lots(
    session: Session,
    *,
    actor: Principal,
    lines: Sequence[RecallLine],
    reason: str,
    severity: str,
    instructions_vi: str,
    instructions_en: str = "",
    single: bool = False,
) -> list[Recall]:
    """Recall one or more lots at once; every line is checked and its errors point at it."""
    check_enforcer(actor)
    errors = ErrorCollector()
    text = _check_common(errors, reason=reason, severity=severity, instructions_vi=instructions_vi)
    if not lines:
        errors.add("/lots", N_("Add at least one lot"), "missing")
    if len(lines) > MAX_LINES:
        errors.add(
            "/lots",
            N_("Too many entries: at most %(max_length)s"),
            "too_long",
            max_length=MAX_LINES,
        )
    seen: set[tuple[str, str]] = set()
    checked = [
        _check_line(session, actor, line, "" if single else f"/lots/{i}", errors, seen)
        for i, line in enumerate(lines[:MAX_LINES])
    ]
    errors.raise_if_any()
    return [
        _issue(
            session,
            actor=actor,
            line=c,
            reason=text,
            severity=severity,
            instructions_vi=instructions_vi.strip(),
            instructions_en=(instructions_en or "").strip(),
        )
        for c in checked
        if c is not None
    ]


def recall_lot(
    session: Session,
    *,
    actor: Principal,
    gtin: str,
    lot: str,
    reason: str,
    severity: str,
    instructions_vi: str,
    instructions_en: str = "",
) -> Recall:
    """Recall one lot and everything downstream of it."""
    [issued] = recall_lots(
        session,
        actor=actor,
        lines=[RecallLine(gtin, lot)],
        reason=reason,
        severity=severity,
        instructions_vi=instructions_vi,
        instructions_en=instructions_en,
        single=True,
    )
    return issued


def _party_ident(organisation_id: int, gln: str | None) -> str:
    if gln:
        return f"{identifiers.CANONICAL_BASE}/417/{gln}"
    return f"urn:txng:organisation:{organisation_id}"


def _scope_targets(session: Session, line: _Checked) -> dict[str, tuple[str, int | None]]:
    """ident → (kind, holding organisation) for everything the recall reaches."""
    scope = trace_recall.recall_lot(session, principal=_TRACER, lot=line.lot_ident)
    found: dict[str, tuple[str, int | None]] = {
        line.lot_ident: ("lot", line.product.organisation_id)
    }
    traced = [
        *(("lot", i) for i in scope.lots),
        *(("item", i) for i in scope.items),
        *(("logistic_unit", i) for i in scope.logistic_units),
    ]
    events = {pk: (e.time, e.organisation_id) for pk, e in scope.trace.events.items()}
    holders = repository.latest_holders(session, events, [ident for _, ident in traced])
    for kind, ident in traced:
        if ident not in found:
            found[ident] = (kind, holders.get(ident))
    lots = {(line.gtin, line.lot)}
    for ident in scope.lots:
        lot_number, gtin = trace_recall.lot_code(ident)
        if lot_number and gtin:
            lots.add((gtin, lot_number))
    for stamp in repository.stamps_of_lots(session, lots):
        try:
            ident = identifiers.sgtin_dl(stamp.gtin, stamp.serial)
        except identifiers.IdentifierError:
            continue
        kind, holder = found.get(ident, ("stamp", None))
        found[ident] = (kind, holder if holder is not None else stamp.organisation_id)
    for org in scope.receivers:
        found.setdefault(_party_ident(org.id, org.gln), ("party", org.id))
    return found


def _issue(
    session: Session,
    *,
    actor: Principal,
    line: _Checked,
    reason: str,
    severity: str,
    instructions_vi: str,
    instructions_en: str,
) -> Recall:
    recall = Recall(
        organisation_id=line.product.organisation_id,
        gtin=line.gtin,
        lot=line.lot,
        reason=reason,
        severity=severity,
        instructions_vi=instructions_vi,
        instructions_en=instructions_en,
        state=ACTIVE,
        issued_by_user_id=actor.user_id,
        issued_by_label=actor.label,
        issued_at=utcnow(),
    )
    repository.add(session, recall)
    session.flush()
    targets = _scope_targets(session, line)
    repository.add_targets(
        session,
        (
            RecallTarget(recall_id=recall.id, ident=ident, kind=kind, organisation_id=org)
            for ident, (kind, org) in targets.items()
        ),
    )
    session.flush()
    counts: dict[str, int] = {}
    for kind, _ in targets.values():
        counts[kind] = counts.get(kind, 0) + 1
    ledger_outbox.enqueue(
        session,
        kind=ledger_records.KIND_RECALL,
        ref=str(recall.id),
        payload=ledger_records.recall_record(recall, counts),
    )
    audit.record(
        session,
        actor=actor,
        action="recall.issued",
        entity_type="recall",
        entity_id=recall.id,
        organisation_id=recall.organisation_id,
        after={
            "gtin": recall.gtin,
            "lot": recall.lot,
            "severity": severity,
            "reason": reason,
            "targets": counts,
        },
    )
    return recall


def get_recall(session: Session, *, actor: Principal, recall_id: int) -> Recall:
    """A recall, for the authority, or for an organisation it concerns."""
    recall = repository.recall(session, recall_id)
    if recall is None:
        raise NotFound()
    if actor.role in _ENFORCER_ROLES:
        return recall
    if actor.organisation_id is not None and any(
        r.id == recall.id
        for r in repository.recalls_for_organisation(session, actor.organisation_id, state=None)
    ):
        return recall
    raise NotFound()


_ENFORCER_ROLES = frozenset(
    {Role.SYSTEM_ADMIN, Role.PROVINCIAL_ADMIN, Role.INSPECTOR, Role.SECTOR_REVIEWER}
)


def lift_recall(session: Session, *, actor: Principal, recall_id: int, reason: str) -> Recall:
    """End a recall: consumer pages and dashboards stop showing it; the record stays."""
    check_enforcer(actor)
    recall = get_recall(session, actor=actor, recall_id=recall_id)
    product = repository.product_by_gtin(session, recall.gtin)
    if product is not None and not in_sector(actor, product.sector):
        raise NotFound()
    text = clean_reason(reason)
    if recall.state != ACTIVE:
        raise Conflict(
            N_("This action is not possible in the current status (%(status)s)"),
            params={"status": recall.state},
        )
    recall.state = LIFTED
    recall.lifted_at = utcnow()
    session.flush()
    ledger_outbox.enqueue(
        session,
        kind=ledger_records.KIND_RECALL_LIFT,
        ref=str(recall.id),
        payload=ledger_records.recall_lift_record(recall),
    )
    audit.record(
        session,
        actor=actor,
        action="recall.lifted",
        entity_type="recall",
        entity_id=recall.id,
        organisation_id=recall.organisation_id,
        before={"state": ACTIVE},
        after={"state": LIFTED, "reason": text},
    )
    return recall


@dataclass(frozen=True)
class RecallRow:
    recall: Recall
    product_name: str
    counts: dict[str, int]


def _rows(session: Session, recalls: list[Recall]) -> list[RecallRow]:
    products = repository.products_by_gtins(session, [r.gtin for r in recalls])
    counts = repository.target_counts(session, [r.id for r in recalls])
    return [
        RecallRow(
            r,
            products[r.gtin].name_vi if r.gtin in products else r.gtin,
            counts.get(r.id, {}),
        )
        for r in recalls
    ]


def target_counts(session: Session, *, recall_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    return repository.target_counts(session, recall_ids)


def list_recalls(
    session: Session, *, actor: Principal, state: str | None = None
) -> list[RecallRow]:
    """Every recall, newest first (the authority's register)."""
    check_enforcer(actor)
    return _rows(session, repository.recalls(session, state=state))


def notices_for(session: Session, *, actor: Principal) -> list[RecallRow]:
    """Active recalls of the caller's organisation's lots or reaching what it holds."""
    if actor.organisation_id is None:
        return []
    return _rows(session, repository.recalls_for_organisation(session, actor.organisation_id))


def targets_of(session: Session, *, actor: Principal, recall_id: int) -> list[RecallTarget]:
    recall = get_recall(session, actor=actor, recall_id=recall_id)
    if actor.role not in _ENFORCER_ROLES:
        # An organisation sees the part of the scope it holds, not its partners' goods.
        return [
            t
            for t in repository.targets(session, recall.id)
            if t.organisation_id == actor.organisation_id
        ]
    return repository.targets(session, recall.id)


# the public notice -----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicRecall:
    id: int
    gtin: str
    lot: str
    product_id: int | None  # set when the product is published (a link to its portal page)
    name_vi: str
    name_en: str
    producer: str
    severity: str
    reason: str
    instructions_vi: str
    instructions_en: str
    issued_at: datetime

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi or self.gtin

    def instructions(self, locale: str) -> str:
        if locale == "en" and self.instructions_en:
            return self.instructions_en
        return self.instructions_vi


def public_recalls(session: Session) -> list[PublicRecall]:
    """Active recalls as the public sees them: product and producer only as published."""
    recalls = repository.recalls(session, state=ACTIVE)
    products = repository.products_by_gtins(session, [r.gtin for r in recalls])
    out: list[PublicRecall] = []
    for r in recalls:
        product = products.get(r.gtin)
        published = (
            review_service.public_version(session, entity_type="product", entity_id=product.id)
            if product is not None
            else None
        )
        snap = published.snapshot if published is not None else {}
        producer = (
            review_service.public_version(
                session, entity_type="organisation", entity_id=published.organisation_id
            )
            if published is not None
            else None
        )
        out.append(
            PublicRecall(
                id=r.id,
                gtin=r.gtin,
                lot=r.lot,
                product_id=published.entity_id if published is not None else None,
                name_vi=str(snap.get("name_vi") or ""),
                name_en=str(snap.get("name_en") or ""),
                producer=str(producer.snapshot.get("name") or "") if producer else "",
                severity=r.severity,
                reason=r.reason,
                instructions_vi=r.instructions_vi,
                instructions_en=r.instructions_en,
                issued_at=r.issued_at,
            )
        )
    return out
