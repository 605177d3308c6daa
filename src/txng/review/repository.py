"""All SQL of review and publication. Every read of review items takes the caller's Principal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, select, true, update
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.models import CaptureJob, EpcisEvent, ReviewComment, ReviewItem, ReviewPolicy
from txng.review.state import State


def review_scope(principal: Principal) -> ColumnElement[bool]:
    """Which review items the caller may see: the queue rules of ADR 0002."""
    if principal.sees_everything:
        return true()
    if principal.is_enterprise:
        if principal.organisation_id is None:
            return false()
        return ReviewItem.organisation_id == principal.organisation_id
    if principal.role == Role.SECTOR_REVIEWER and principal.sector is not None:
        return ReviewItem.sector == principal.sector.value
    if principal.role == Role.COMMUNE_OFFICER:
        return ReviewItem.commune_code.in_(sorted(principal.communes))
    return false()


def _filters(
    principal: Principal, *, entity_type: str | None, organisation_id: int | None
) -> ColumnElement[bool]:
    cond = review_scope(principal)
    if entity_type is not None:
        cond = and_(cond, ReviewItem.entity_type == entity_type)
    if organisation_id is not None:
        cond = and_(cond, ReviewItem.organisation_id == organisation_id)
    return cond


def queue(
    session: Session,
    principal: Principal,
    *,
    entity_type: str | None,
    state: str | None,
    organisation_id: int | None,
    page: int,
    per_page: int,
) -> tuple[list[ReviewItem], int]:
    """Items in scope, oldest submission first."""
    cond = _filters(principal, entity_type=entity_type, organisation_id=organisation_id)
    if state is not None:
        cond = and_(cond, ReviewItem.state == state)
    total = session.scalar(select(func.count()).select_from(ReviewItem).where(cond)) or 0
    stmt = select(ReviewItem).where(cond).order_by(ReviewItem.submitted_at, ReviewItem.id)
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def counts(
    session: Session, principal: Principal, *, entity_type: str | None, organisation_id: int | None
) -> dict[str, int]:
    cond = _filters(principal, entity_type=entity_type, organisation_id=organisation_id)
    stmt = select(ReviewItem.state, func.count()).where(cond).group_by(ReviewItem.state)
    return {str(state): int(n) for state, n in session.execute(stmt)}


def item(session: Session, principal: Principal, item_id: int) -> ReviewItem | None:
    stmt = select(ReviewItem).where(ReviewItem.id == item_id, review_scope(principal))
    return session.scalars(stmt).first()


def items_by_ids(session: Session, principal: Principal, ids: Sequence[int]) -> list[ReviewItem]:
    if not ids:
        return []
    stmt = select(ReviewItem).where(ReviewItem.id.in_(list(ids)), review_scope(principal))
    return list(session.scalars(stmt))


def versions_of(
    session: Session, entity_type: str, entity_id: int, states: Sequence[str] | None = None
) -> list[ReviewItem]:
    """Every version of one thing, newest first (unscoped: for the services' bookkeeping)."""
    stmt = select(ReviewItem).where(
        ReviewItem.entity_type == entity_type, ReviewItem.entity_id == entity_id
    )
    if states is not None:
        stmt = stmt.where(ReviewItem.state.in_(list(states)))
    return list(session.scalars(stmt.order_by(ReviewItem.version.desc())))


def next_version(session: Session, entity_type: str, entity_id: int) -> int:
    stmt = select(func.max(ReviewItem.version)).where(
        ReviewItem.entity_type == entity_type, ReviewItem.entity_id == entity_id
    )
    current = session.scalar(stmt)
    return 1 if current is None else current + 1


def published_version(session: Session, entity_type: str, entity_id: int) -> ReviewItem | None:
    found = versions_of(session, entity_type, entity_id, [State.PUBLISHED.value])
    return found[0] if found else None


def published_entity_ids(session: Session, entity_type: str) -> list[int]:
    stmt = select(ReviewItem.entity_id).where(
        ReviewItem.entity_type == entity_type, ReviewItem.state == State.PUBLISHED.value
    )
    return sorted(set(session.scalars(stmt)))


def is_published(session: Session, entity_type: str, entity_id: int) -> bool:
    stmt = select(ReviewItem.id).where(
        ReviewItem.entity_type == entity_type,
        ReviewItem.entity_id == entity_id,
        ReviewItem.state == State.PUBLISHED.value,
    )
    return session.scalar(stmt.limit(1)) is not None


def count_batches(session: Session, organisation_id: int, states: Sequence[str]) -> int:
    """Event batches of an organisation in the given states that a person decided."""
    stmt = select(func.count()).where(
        ReviewItem.entity_type == "event_batch",
        ReviewItem.organisation_id == organisation_id,
        ReviewItem.state.in_(list(states)),
        ReviewItem.auto_approved.is_(False),
    )
    return session.scalar(stmt) or 0


def policy(session: Session, organisation_id: int) -> ReviewPolicy | None:
    return session.get(ReviewPolicy, organisation_id)


def capture_job(session: Session, job_id: int) -> CaptureJob | None:
    return session.get(CaptureJob, job_id)


def set_events_published(session: Session, capture_job_id: int, at: datetime | None) -> int:
    """Publish (or, with None, withdraw from the public) the events of one capture job."""
    stmt = (
        update(EpcisEvent)
        .where(EpcisEvent.capture_job_id == capture_job_id)
        .values(published_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def batch_event_ids(session: Session, capture_job_id: int, limit: int) -> list[str]:
    stmt = (
        select(EpcisEvent.event_id)
        .where(EpcisEvent.capture_job_id == capture_job_id)
        .order_by(EpcisEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def comments_of(session: Session, item_id: int) -> list[ReviewComment]:
    stmt = (
        select(ReviewComment)
        .where(ReviewComment.item_id == item_id)
        .order_by(ReviewComment.created_at, ReviewComment.id)
    )
    return list(session.scalars(stmt))


def add(session: Session, obj: object) -> None:
    session.add(obj)
