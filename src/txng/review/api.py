"""JSON API of review and publication under ``/api/v1/review``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from txng.kit import i18n
from txng.models import ReviewItem
from txng.review import service
from txng.review.schemas import (
    BulkApproveIn,
    BulkOut,
    BulkResultOut,
    CommentIn,
    CommentOut,
    DecisionIn,
    EntityType,
    FieldChangeOut,
    ItemDetailOut,
    PolicyIn,
    PolicyOut,
    QueueOut,
    QueueState,
    ReviewItemOut,
)
from txng.review.state import Action
from txng.web.deps import DB, ApiCaller, DbId, OptionalDbId

router = APIRouter(prefix="/api/v1/review", tags=["review"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]


def _out(item: ReviewItem) -> ReviewItemOut:
    return ReviewItemOut.model_validate(item)


def _detail(detail: service.ItemDetail) -> ItemDetailOut:
    return ItemDetailOut(
        item=_out(detail.item),
        published_version=detail.published.version if detail.published else None,
        changes=[
            FieldChangeOut(field=c.field, before=c.before, after=c.after, kind=c.kind)
            for c in detail.changes
        ],
        comments=[CommentOut.model_validate(c) for c in detail.comments],
        actions=[a.value for a in detail.actions],
    )


@router.get("/items", response_model=QueueOut)
def list_items(
    caller: ApiCaller,
    db: DB,
    entity_type: EntityType | None = None,
    state: QueueState = "submitted",
    organisation_id: OptionalDbId = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> QueueOut:
    """The caller's review queue, oldest first, with counts per state (`state=all`: all)."""
    found = service.queue(
        db,
        actor=caller,
        entity_type=entity_type,
        state=None if state == "all" else state,
        organisation_id=organisation_id,
        page=page,
        per_page=per_page,
    )
    return QueueOut(
        items=[_out(i) for i in found.items],
        total=found.total,
        page=page,
        per_page=per_page,
        counts=found.counts,
    )


@router.get("/items/{item_id}", response_model=ItemDetailOut)
def get_item(item_id: DbId, caller: ApiCaller, db: DB) -> ItemDetailOut:
    """One item with its field-by-field difference from the published version."""
    return _detail(service.item_detail(db, actor=caller, item_id=item_id))


@router.post("/items/{item_id}/decision", response_model=ReviewItemOut)
def decide(item_id: DbId, body: DecisionIn, caller: ApiCaller, db: DB) -> ReviewItemOut:
    """Approve (and publish), reject with a reason, publish, suspend, reinstate, recall…"""
    item = service.decide(
        db,
        actor=caller,
        item_id=item_id,
        action=Action(body.action),
        reason=body.reason,
        publish=body.publish,
    )
    return _out(item)


@router.post("/bulk-approve", response_model=BulkOut)
def bulk_approve(body: BulkApproveIn, request: Request, caller: ApiCaller, db: DB) -> BulkOut:
    """Approve many items at once; each item gets its own result."""
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    results = service.bulk_approve(db, actor=caller, item_ids=body.ids, publish=body.publish)
    out = [
        BulkResultOut(
            id=r.id,
            ok=r.ok,
            state=r.state,
            status=r.status,
            detail=i18n.gettext(locale, r.detail, dict(r.params or {})) if r.detail else None,
        )
        for r in results
    ]
    approved = sum(1 for r in results if r.ok)
    return BulkOut(results=out, approved=approved, failed=len(results) - approved)


@router.get("/items/{item_id}/comments", response_model=list[CommentOut])
def list_comments(item_id: DbId, caller: ApiCaller, db: DB) -> list[CommentOut]:
    return [
        CommentOut.model_validate(c) for c in service.comments(db, actor=caller, item_id=item_id)
    ]


@router.post("/items/{item_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(item_id: DbId, body: CommentIn, caller: ApiCaller, db: DB) -> CommentOut:
    """Add a remark to an item (reviewers and the submitting organisation)."""
    comment = service.add_comment(db, actor=caller, item_id=item_id, body=body.body)
    return CommentOut.model_validate(comment)


@router.post("/products/{product_id}/submit", response_model=ReviewItemOut, status_code=201)
def submit_product(product_id: DbId, caller: ApiCaller, db: DB) -> ReviewItemOut:
    """Submit the product's current data for review as a new version."""
    return _out(service.submit_product(db, actor=caller, product_id=product_id))


@router.post(
    "/organisations/{organisation_id}/submit", response_model=ReviewItemOut, status_code=201
)
def submit_organisation(organisation_id: DbId, caller: ApiCaller, db: DB) -> ReviewItemOut:
    """Submit the organisation's current profile for review as a new version."""
    item = service.submit_organisation(db, actor=caller, organisation_id=organisation_id)
    return _out(item)


@router.post("/facilities/{facility_id}/submit", response_model=ReviewItemOut, status_code=201)
def submit_facility(facility_id: DbId, caller: ApiCaller, db: DB) -> ReviewItemOut:
    """Submit the facility's current data for review as a new version."""
    return _out(service.submit_facility(db, actor=caller, facility_id=facility_id))


@router.get("/organisations/{organisation_id}/policy", response_model=PolicyOut)
def get_policy(organisation_id: DbId, caller: ApiCaller, db: DB) -> PolicyOut:
    """How the organisation's event batches are reviewed."""
    policy = service.get_policy(db, actor=caller, organisation_id=organisation_id)
    return PolicyOut(
        organisation_id=policy.organisation_id,
        mode=policy.mode,
        trust_after=policy.trust_after,
    )


@router.put("/organisations/{organisation_id}/policy", response_model=PolicyOut)
def set_policy(organisation_id: DbId, body: PolicyIn, caller: ApiCaller, db: DB) -> PolicyOut:
    """Review every batch, or trust the organisation after N approved batches (administrators)."""
    policy = service.set_policy(
        db,
        actor=caller,
        organisation_id=organisation_id,
        mode=body.mode,
        trust_after=body.trust_after,
    )
    return PolicyOut(
        organisation_id=policy.organisation_id,
        mode=body.mode,
        trust_after=policy.trust_after,
    )
