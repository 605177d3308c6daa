"""All SQL of onboarding. The approval queue is scoped: admins see all, commune officers theirs."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.models import Organisation, Registration, User

Row = tuple[Registration, Organisation, User]


def queue_scope(principal: Principal) -> ColumnElement[bool]:
    """Which registrations the caller may decide on; unconfirmed ones reach nobody's queue."""
    confirmed = Registration.state != "pending_verification"
    if principal.is_admin:
        return and_(confirmed, true())
    if principal.role == Role.COMMUNE_OFFICER and principal.communes:
        return and_(confirmed, Registration.commune_code.in_(sorted(principal.communes)))
    return false()


def may_see_queue(principal: Principal) -> bool:
    return principal.is_admin or principal.role == Role.COMMUNE_OFFICER


def add(session: Session, registration: Registration) -> None:
    session.add(registration)


# Statements are immutable: every query below derives its own from this one.
_ROWS = (
    select(Registration, Organisation, User)
    .join(Organisation, Organisation.id == Registration.organisation_id)
    .join(User, User.id == Registration.user_id)
)


def queue(session: Session, principal: Principal, *, state: str) -> list[Row]:
    stmt = _ROWS.where(queue_scope(principal), Registration.state == state).order_by(
        Registration.created_at, Registration.id
    )
    return [(r, o, u) for r, o, u in session.execute(stmt)]


def scoped(session: Session, principal: Principal, registration_id: int) -> Row | None:
    stmt = _ROWS.where(Registration.id == registration_id, queue_scope(principal))
    row = session.execute(stmt).first()
    return (row[0], row[1], row[2]) if row else None


def by_id(session: Session, registration_id: int) -> Row | None:
    row = session.execute(_ROWS.where(Registration.id == registration_id)).first()
    return (row[0], row[1], row[2]) if row else None


def by_token_hash(session: Session, token_hash: str) -> Row | None:
    row = session.execute(_ROWS.where(Registration.token_hash == token_hash)).first()
    return (row[0], row[1], row[2]) if row else None


def by_email(session: Session, email: str) -> Row | None:
    row = session.execute(_ROWS.where(User.email == email.strip().lower())).first()
    return (row[0], row[1], row[2]) if row else None
