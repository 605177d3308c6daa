"""What a leaf seals: a record built deterministically from database rows.

The same builder runs at publication (the outbox payload) and at audit time (from the current
rows), so that any later change of a published row shows as a mismatch. Records carry only what
is public once published: no user names, e-mail or IP addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from txng.models import AuditEntry, EpcisEvent, Recall, ReviewItem

KIND_EVENT = "event"
KIND_DECISION = "decision"
KIND_RECALL = "recall"
KIND_RECALL_LIFT = "recall_lift"
REVIEW_KINDS = ("organisation", "facility", "product", "event_batch", "stamp_request")
SCHEMA = "txng-ledger-record/v1"

# Rebuild a sealed record from the current database: (session, kind, ref, stored record).
Rebuilder = Callable[[Session, str, str, Mapping[str, Any]], dict[str, Any] | None]


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def review_item_record(item: ReviewItem) -> dict[str, Any]:
    """A published version of an organisation, facility, product, event batch or stamp batch."""
    return {
        "schema": SCHEMA,
        "kind": item.entity_type,
        "ref": str(item.entity_id),
        "review_item_id": item.id,
        "version": item.version,
        "organisation_id": item.organisation_id,
        "snapshot": item.snapshot,
        "published_at": timestamp(item.published_at),
    }


def event_record(event: EpcisEvent) -> dict[str, Any]:
    """One EPCIS event of a published batch, as it was captured (events are immutable)."""
    return {
        "schema": SCHEMA,
        "kind": KIND_EVENT,
        "ref": event.event_id,
        "organisation_id": event.organisation_id,
        "capture_job_id": event.capture_job_id,
        "event_type": event.event_type,
        "content_hash": event.content_hash,
        "body": event.body,
    }


def decision_record(entry: AuditEntry) -> dict[str, Any]:
    """A review decision on a published thing (publish, suspend, recall, reinstate)."""
    return {
        "schema": SCHEMA,
        "kind": KIND_DECISION,
        "ref": str(entry.id),
        "action": entry.action,
        "review_item_id": int(entry.entity_id),
        "organisation_id": entry.organisation_id,
        "before": entry.before,
        "after": entry.after,
        "at": timestamp(entry.at),
    }


def recall_record(recall: Recall, targets: Mapping[str, int]) -> dict[str, Any]:
    """An authority's recall as issued: the lot, why, how severe, what consumers must do, and
    how many identifiers of each kind its scope holds (the issuer's name is not public)."""
    return {
        "schema": SCHEMA,
        "kind": KIND_RECALL,
        "ref": str(recall.id),
        "organisation_id": recall.organisation_id,
        "gtin": recall.gtin,
        "lot": recall.lot,
        "reason": recall.reason,
        "severity": recall.severity,
        "instructions_vi": recall.instructions_vi,
        "instructions_en": recall.instructions_en,
        "issued_at": timestamp(recall.issued_at),
        "targets": dict(sorted(targets.items())),
    }


def recall_lift_record(recall: Recall) -> dict[str, Any]:
    """The end of a recall (its issuance stays sealed as it was)."""
    return {
        "schema": SCHEMA,
        "kind": KIND_RECALL_LIFT,
        "ref": str(recall.id),
        "gtin": recall.gtin,
        "lot": recall.lot,
        "lifted_at": timestamp(recall.lifted_at),
    }


def _rebuild_review(
    session: Session, kind: str, ref: str, stored: Mapping[str, Any]
) -> dict[str, Any] | None:
    item_id = stored.get("review_item_id")
    item = session.get(ReviewItem, item_id) if isinstance(item_id, int) else None
    if item is None or item.entity_type != kind or str(item.entity_id) != ref:
        return None
    return review_item_record(item)


def _rebuild_event(
    session: Session, kind: str, ref: str, stored: Mapping[str, Any]
) -> dict[str, Any] | None:
    from txng.ledger import repository

    event = repository.event_by_event_id(session, ref)
    return event_record(event) if event is not None else None


def _rebuild_decision(
    session: Session, kind: str, ref: str, stored: Mapping[str, Any]
) -> dict[str, Any] | None:
    entry = session.get(AuditEntry, int(ref)) if ref.isdigit() else None
    return decision_record(entry) if entry is not None else None


def _rebuild_recall(
    session: Session, kind: str, ref: str, stored: Mapping[str, Any]
) -> dict[str, Any] | None:
    from txng.ledger import repository

    recall = session.get(Recall, int(ref)) if ref.isdigit() else None
    if recall is None:
        return None
    if kind == KIND_RECALL_LIFT:
        return recall_lift_record(recall)
    return recall_record(recall, repository.recall_target_counts(session, recall.id))


_REBUILDERS: dict[str, Rebuilder] = {
    **dict.fromkeys(REVIEW_KINDS, _rebuild_review),
    KIND_EVENT: _rebuild_event,
    KIND_DECISION: _rebuild_decision,
    KIND_RECALL: _rebuild_recall,
    KIND_RECALL_LIFT: _rebuild_recall,
}


def register(kind: str, rebuilder: Rebuilder) -> None:
    """Let another domain (recalls, …) say how its sealed records are rebuilt for the audit."""
    _REBUILDERS[kind] = rebuilder


def rebuilder_for(kind: str) -> Rebuilder | None:
    return _REBUILDERS.get(kind)
