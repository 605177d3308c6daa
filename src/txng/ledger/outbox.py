"""The ledger's outbox: records to seal, written in the transaction that publishes them.

Appending to the log happens after commit (``service.drain``), exactly once per record and in
outbox order; a rolled-back publication leaves nothing to seal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from txng.ledger import records, repository
from txng.ledger.canonical import canonicalize
from txng.models import AuditEntry, LedgerOutbox, ReviewItem

# Review decisions that are sealed: those that change what the public sees.
SEALED_DECISIONS = frozenset({"publish", "suspend", "recall", "reinstate"})


def _key(kind: str, ref: str, payload: Mapping[str, Any]) -> str:
    canonical = canonicalize(dict(payload))  # refuses what JSON cannot carry, now, not later
    return hashlib.sha256(kind.encode() + b"\0" + ref.encode() + b"\0" + canonical).hexdigest()


def enqueue(
    session: Session, *, kind: str, ref: str, payload: Mapping[str, Any]
) -> LedgerOutbox | None:
    """Queue one record for sealing; None when this very record is already queued or sealed."""
    key = _key(kind, ref, payload)
    if repository.outbox_key_exists(session, key):
        return None
    row = LedgerOutbox(kind=kind, ref=ref, dedupe_key=key, payload=dict(payload))
    repository.add(session, row)
    return row


def enqueue_many(session: Session, items: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Queue many records with one look-up per 500 for those already queued (event batches)."""
    keyed = {_key(kind, ref, payload): (kind, ref, payload) for kind, ref, payload in items}
    known = repository.existing_keys(session, list(keyed))
    rows = [
        LedgerOutbox(kind=kind, ref=ref, dedupe_key=key, payload=payload)
        for key, (kind, ref, payload) in keyed.items()
        if key not in known
    ]
    session.add_all(rows)
    return len(rows)


def enqueue_publication(session: Session, *, item: ReviewItem) -> int:
    """A version just published: its record, and each event of a published event batch."""
    queued = 0
    record = records.review_item_record(item)
    if enqueue(session, kind=item.entity_type, ref=str(item.entity_id), payload=record):
        queued += 1
    if item.entity_type == "event_batch":
        events = repository.events_of_job(session, item.entity_id)
        queued += enqueue_many(
            session, [(records.KIND_EVENT, e.event_id, records.event_record(e)) for e in events]
        )
    return queued


def enqueue_decision(session: Session, *, entry: AuditEntry) -> LedgerOutbox | None:
    """A review decision, from its audit entry (flushed here to get its id and time)."""
    session.flush()
    rec = records.decision_record(entry)
    return enqueue(session, kind=records.KIND_DECISION, ref=str(entry.id), payload=rec)
