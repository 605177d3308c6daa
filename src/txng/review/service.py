"""Review and publication (C7): submit versions, decide on them, publish, suspend, recall.

Every change of state goes through ``state.transition`` and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.errors import N_, Conflict, Forbidden, NotFound, TxngError, field_error
from txng.ledger import outbox as ledger_outbox
from txng.models import CaptureJob, ReviewComment, ReviewItem, ReviewPolicy
from txng.models.base import utcnow
from txng.registry import service as registry_service
from txng.review import repository
from txng.review.diff import FieldChange, diff
from txng.review.state import (
    NEEDS_REASON,
    PENDING_STATES,
    Action,
    ActionNotPermitted,
    IllegalTransition,
    State,
    actions_for,
    transition,
)

ENTITY_TYPES = ("organisation", "facility", "product", "event_batch", "stamp_request")
EVENT_BATCH = "event_batch"
POLICY_EVERY_BATCH = "every_batch"
POLICY_TRUST = "trust"
MAX_LISTED_EVENTS = 50  # event IDs kept in a batch's snapshot; the batch holds them all
# Reads the services make on the system's own behalf (the capture hook has no caller).
_SYSTEM_READER = Principal(role=Role.SYSTEM_ADMIN, label="system")


class StateConflict(Conflict):
    default_message = N_("This action is not possible in the item's current state")


def _role(actor: Principal | None) -> Role | None:
    return actor.role if actor is not None else None


def _refused(exc: IllegalTransition | ActionNotPermitted) -> TxngError:
    if isinstance(exc, IllegalTransition):
        return StateConflict(params={"state": exc.state.value, "action": exc.action.value})
    return Forbidden()


def _apply(
    session: Session,
    item: ReviewItem,
    action: Action,
    actor: Principal | None,
    *,
    reason: str | None = None,
    auto: bool = False,
) -> None:
    """Take one action on one item: check it, change the state, apply its effects, audit it."""
    before = State(item.state)
    try:
        after = transition(before, action, _role(actor))
    except (IllegalTransition, ActionNotPermitted) as exc:
        raise _refused(exc) from exc
    reason = (reason or "").strip() or None
    if action in NEEDS_REASON and reason is None:
        raise field_error("/reason", N_("Give the reason for this decision"), "required")
    now = utcnow()
    item.state = after.value
    if action in (Action.APPROVE, Action.REJECT):
        item.decided_by_user_id = actor.user_id if actor else None
        item.decided_by_label = actor.label if actor else "system"
        item.decided_at = now
        item.auto_approved = auto
    if reason is not None:
        item.reason = reason
    _effects(session, item, action, now)
    entry = audit.record(
        session,
        actor=actor,
        action=f"review.{action.value}",
        entity_type="review_item",
        entity_id=item.id,
        organisation_id=item.organisation_id,
        before={"state": before.value},
        after={
            "state": after.value,
            "entity_type": item.entity_type,
            "entity_id": item.entity_id,
            "version": item.version,
            **({"reason": reason} if reason else {}),
            **({"auto": True} if auto else {}),
        },
    )
    if action.value in ledger_outbox.SEALED_DECISIONS:  # sealed in the ledger after commit
        ledger_outbox.enqueue_decision(session, entry=entry)


def _effects(session: Session, item: ReviewItem, action: Action, now: Any) -> None:
    """What a change of state does outside the item: the public version, the events' visibility."""
    if action == Action.PUBLISH:
        item.published_at = now
        ledger_outbox.enqueue_publication(session, item=item)
        for older in repository.versions_of(
            session, item.entity_type, item.entity_id, [State.PUBLISHED.value]
        ):
            if older.id != item.id:
                _apply(session, older, Action.SUPERSEDE, None)
    if item.entity_type == EVENT_BATCH:
        if action in (Action.PUBLISH, Action.REINSTATE):
            repository.set_events_published(session, item.entity_id, now)
        elif action in (Action.SUSPEND, Action.RECALL):
            repository.set_events_published(session, item.entity_id, None)
    if item.entity_type == "stamp_request":
        # Imported here: the stamps service submits its requests through this module.
        from txng.stamps import service as stamps_service

        stamps_service.on_review(session, item, action)
    session.flush()


# submission ------------------------------------------------------------------------------


def submit(
    session: Session,
    *,
    actor: Principal | None,
    entity_type: str,
    entity_id: int,
    organisation_id: int,
    sector: str | None,
    commune_code: str | None,
    snapshot: Mapping[str, Any],
) -> ReviewItem:
    """Submit a new version of a thing; a version still pending is superseded by it."""
    if entity_type not in ENTITY_TYPES:
        raise field_error("/entity_type", N_("Choose one of the options"), "enum")
    for pending in repository.versions_of(
        session, entity_type, entity_id, [s.value for s in PENDING_STATES]
    ):
        _apply(session, pending, Action.SUPERSEDE, None)
    item = ReviewItem(
        entity_type=entity_type,
        entity_id=entity_id,
        version=repository.next_version(session, entity_type, entity_id),
        state=State.DRAFT.value,
        snapshot=dict(snapshot),
        organisation_id=organisation_id,
        sector=sector,
        commune_code=commune_code,
        submitted_by_user_id=actor.user_id if actor else None,
        submitted_by_label=actor.label if actor else "system",
        submitted_at=utcnow(),
    )
    repository.add(session, item)
    session.flush()
    _apply(session, item, Action.SUBMIT, actor)
    return item


def _check_owner(actor: Principal, organisation_id: int) -> None:
    if not actor.may_write_organisation(organisation_id):
        raise NotFound() if not actor.sees_everything else Forbidden()


def submit_product(session: Session, *, actor: Principal, product_id: int) -> ReviewItem:
    """Submit the product's current data for review (a new version)."""
    product = registry_service.get_product(session, actor=actor, product_id=product_id)
    _check_owner(actor, product.organisation_id)
    org = registry_service.get_organisation(
        session, actor=_SYSTEM_READER, organisation_id=product.organisation_id
    )
    return submit(
        session,
        actor=actor,
        entity_type="product",
        entity_id=product.id,
        organisation_id=org.id,
        sector=product.sector,
        commune_code=org.commune_code,
        snapshot=registry_service.publication_snapshot(session, product),
    )


def submit_organisation(session: Session, *, actor: Principal, organisation_id: int) -> ReviewItem:
    """Submit the organisation's current profile for review (a new version)."""
    org = registry_service.get_organisation(session, actor=actor, organisation_id=organisation_id)
    _check_owner(actor, org.id)
    return submit(
        session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        organisation_id=org.id,
        sector=org.sector,
        commune_code=org.commune_code,
        snapshot=audit.snapshot(org, registry_service.ORGANISATION_FIELDS),
    )


def submit_facility(session: Session, *, actor: Principal, facility_id: int) -> ReviewItem:
    """Submit the facility's current data for review (a new version)."""
    facility = registry_service.get_facility(session, actor=actor, facility_id=facility_id)
    _check_owner(actor, facility.organisation_id)
    org = registry_service.get_organisation(
        session, actor=_SYSTEM_READER, organisation_id=facility.organisation_id
    )
    return submit(
        session,
        actor=actor,
        entity_type="facility",
        entity_id=facility.id,
        organisation_id=org.id,
        sector=org.sector,
        commune_code=facility.commune_code,
        snapshot=audit.snapshot(facility, registry_service.FACILITY_FIELDS),
    )


# event batches ---------------------------------------------------------------------------


def on_capture(session: Session, job: CaptureJob) -> ReviewItem | None:
    """Called by the capture service after storing a batch: queue it, or publish it when trusted."""
    if job.organisation_id is None or job.stored_count == 0:
        return None
    org = registry_service.get_organisation(
        session, actor=_SYSTEM_READER, organisation_id=job.organisation_id
    )
    item = submit(
        session,
        actor=None,
        entity_type=EVENT_BATCH,
        entity_id=job.id,
        organisation_id=org.id,
        sector=org.sector,
        commune_code=org.commune_code,
        snapshot={
            "capture_id": job.capture_id,
            "source": job.source,
            "event_count": job.event_count,
            "stored_count": job.stored_count,
            "event_ids": repository.batch_event_ids(session, job.id, MAX_LISTED_EVENTS),
        },
    )
    if is_trusted(session, organisation_id=org.id, organisation_status=org.status):
        _apply(session, item, Action.APPROVE, None, auto=True)
        _apply(session, item, Action.PUBLISH, None)
    return item


def is_trusted(session: Session, *, organisation_id: int, organisation_status: str) -> bool:
    """An active organisation whose policy trusts it, past its first N approved batches and
    with no batch of its own suspended or recalled."""
    policy = repository.policy(session, organisation_id)
    if policy is None or policy.mode != POLICY_TRUST or organisation_status != "active":
        return False
    bad = repository.count_batches(
        session, organisation_id, [State.SUSPENDED.value, State.RECALLED.value]
    )
    if bad:
        return False
    approved = repository.count_batches(
        session, organisation_id, [State.APPROVED.value, State.PUBLISHED.value]
    )
    return approved >= policy.trust_after


def set_policy(
    session: Session, *, actor: Principal, organisation_id: int, mode: str, trust_after: int
) -> ReviewPolicy:
    """Choose how an organisation's event batches are reviewed (provincial administrators)."""
    org = registry_service.get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not actor.is_admin:
        raise NotFound() if not actor.sees_everything else Forbidden()
    policy = repository.policy(session, org.id)
    before = {"mode": policy.mode, "trust_after": policy.trust_after} if policy else None
    if policy is None:
        policy = ReviewPolicy(organisation_id=org.id)
        repository.add(session, policy)
    policy.mode = mode
    policy.trust_after = trust_after
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="review.policy_set",
        entity_type="organisation",
        entity_id=org.id,
        organisation_id=org.id,
        before=before,
        after={"mode": mode, "trust_after": trust_after},
    )
    return policy


def get_policy(session: Session, *, actor: Principal, organisation_id: int) -> ReviewPolicy:
    org = registry_service.get_organisation(session, actor=actor, organisation_id=organisation_id)
    return repository.policy(session, org.id) or ReviewPolicy(
        organisation_id=org.id, mode=POLICY_EVERY_BATCH, trust_after=3
    )


# decisions -------------------------------------------------------------------------------


def get_item(session: Session, *, actor: Principal, item_id: int) -> ReviewItem:
    item = repository.item(session, actor, item_id)
    if item is None:
        raise NotFound()
    return item


def decide(
    session: Session,
    *,
    actor: Principal,
    item_id: int,
    action: Action,
    reason: str | None = None,
    publish: bool = True,
) -> ReviewItem:
    """Take a reviewer's (or the submitter's) action; approving publishes unless told not to."""
    item = get_item(session, actor=actor, item_id=item_id)
    if action in (Action.SUBMIT, Action.SUPERSEDE):
        raise StateConflict(params={"state": item.state, "action": action.value})
    _apply(session, item, action, actor, reason=reason)
    if action == Action.APPROVE and publish:
        _apply(session, item, Action.PUBLISH, actor)
    return item


def approve(
    session: Session, *, actor: Principal, item_id: int, publish: bool = True
) -> ReviewItem:
    return decide(session, actor=actor, item_id=item_id, action=Action.APPROVE, publish=publish)


def reject(session: Session, *, actor: Principal, item_id: int, reason: str) -> ReviewItem:
    return decide(session, actor=actor, item_id=item_id, action=Action.REJECT, reason=reason)


@dataclass(frozen=True)
class BulkResult:
    id: int
    ok: bool
    state: str | None
    status: int
    detail: str | None = None
    params: Mapping[str, Any] | None = None


def bulk_approve(
    session: Session, *, actor: Principal, item_ids: Sequence[int], publish: bool = True
) -> list[BulkResult]:
    """Approve many items; each succeeds or fails alone and gets its own result."""
    results: list[BulkResult] = []
    for item_id in dict.fromkeys(item_ids):
        try:
            with session.begin_nested():
                item = decide(
                    session,
                    actor=actor,
                    item_id=item_id,
                    action=Action.APPROVE,
                    publish=publish,
                )
        except TxngError as exc:
            results.append(
                BulkResult(item_id, False, None, exc.status_code, exc.message, exc.params)
            )
        else:
            results.append(BulkResult(item_id, True, item.state, 200))
    return results


# queues, diffs, comments -----------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    items: list[ReviewItem]
    total: int
    counts: dict[str, int]


def queue(
    session: Session,
    *,
    actor: Principal,
    entity_type: str | None = None,
    state: str | None = State.SUBMITTED.value,
    organisation_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Queue:
    """The caller's queue, oldest first, with the number of items per state."""
    items, total = repository.queue(
        session,
        actor,
        entity_type=entity_type,
        state=state,
        organisation_id=organisation_id,
        page=page,
        per_page=per_page,
    )
    counts = repository.counts(
        session, actor, entity_type=entity_type, organisation_id=organisation_id
    )
    return Queue(items, total, {s.value: counts.get(s.value, 0) for s in State})


@dataclass(frozen=True)
class ItemDetail:
    item: ReviewItem
    published: ReviewItem | None
    changes: list[FieldChange]
    comments: list[ReviewComment]
    actions: list[Action]


def _caller_actions(actor: Principal, item: ReviewItem) -> list[Action]:
    hidden = {Action.SUBMIT, Action.SUPERSEDE}
    if actor.is_enterprise and actor.organisation_id != item.organisation_id:
        return []
    return [a for a in actions_for(State(item.state), actor.role) if a not in hidden]


def item_detail(session: Session, *, actor: Principal, item_id: int) -> ItemDetail:
    """One item, its difference from the published version, its comments, what may be done."""
    item = get_item(session, actor=actor, item_id=item_id)
    published = repository.published_version(session, item.entity_type, item.entity_id)
    against = published if published is not None and published.id != item.id else None
    changes = diff(against.snapshot if against else None, item.snapshot)
    comments = repository.comments_of(session, item.id)
    return ItemDetail(item, published, changes, comments, _caller_actions(actor, item))


def add_comment(session: Session, *, actor: Principal, item_id: int, body: str) -> ReviewComment:
    """A remark on an item, visible to its reviewers and its submitter."""
    item = get_item(session, actor=actor, item_id=item_id)
    text = body.strip()
    if not text:
        raise field_error("/body", N_("This field is required"), "missing")
    comment = ReviewComment(
        item_id=item.id, author_user_id=actor.user_id, author_label=actor.label, body=text
    )
    repository.add(session, comment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="review.commented",
        entity_type="review_item",
        entity_id=item.id,
        organisation_id=item.organisation_id,
        after={"comment_id": comment.id},
    )
    return comment


def comments(session: Session, *, actor: Principal, item_id: int) -> list[ReviewComment]:
    item = get_item(session, actor=actor, item_id=item_id)
    return repository.comments_of(session, item.id)


# what the public may see -----------------------------------------------------------------


def public_product_ids(session: Session) -> list[int]:
    """Products with a published version: the only ones the portal, resolver and exports show."""
    return repository.published_entity_ids(session, "product")


def is_public(session: Session, *, entity_type: str, entity_id: int) -> bool:
    return repository.is_published(session, entity_type, entity_id)


def public_version(session: Session, *, entity_type: str, entity_id: int) -> ReviewItem | None:
    """The published version of a thing (its snapshot is what the public sees), or None."""
    return repository.published_version(session, entity_type, entity_id)
