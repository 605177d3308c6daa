"""All SQL of onboarding. The approval queue is scoped: admins see all, commune officers theirs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, true, update
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


@contextmanager
def insert_or_lose_race(session: Session) -> Iterator[None]:
    """A savepoint around inserts checked for duplicates just before; ``IntegrityError`` out.

    PostgreSQL: between the check and the insert another transaction may commit the same tax
    code or e-mail address; the insert then fails, only the savepoint is rolled back, and the
    caller reports the duplicate and goes on checking the other fields.

    SQLite: pysqlite issues ``BEGIN`` only before a write, so a ``SAVEPOINT`` would open the
    transaction itself and its ``RELEASE`` would commit. Begin it first, ``IMMEDIATE``: the
    database's single write lock is then held from before the check, a concurrent applicant
    waits for it (busy timeout) and its check sees the committed row.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if not getattr(dbapi, "in_transaction", True):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested():
        yield


def release_keys(session: Session, row: Row) -> None:
    """Free a rejected application's tax code and e-mail address for the one replacing it.

    Placeholders, for the rest of this transaction only: the application's rows are deleted
    once the new one exists (:func:`discard`), or come back as they were on a rollback. Deleting
    only afterwards keeps the new registration's id above the old one on SQLite as well, which
    would otherwise hand a deleted highest id out again (and mix up their audit entries).
    """
    _, org, user = row
    session.execute(
        update(Organisation).where(Organisation.id == org.id).values(tax_code=f"~{org.id}")
    )
    session.execute(update(User).where(User.id == user.id).values(email=f"~{user.id}"))


def discard(session: Session, row: Row) -> None:
    """Delete a replaced application's rows; the audit log keeps its history.

    The account goes first: it refers to the organisation with ``RESTRICT``.
    """
    reg, org, user = row
    session.execute(delete(Registration).where(Registration.id == reg.id))
    session.execute(delete(User).where(User.id == user.id))
    session.execute(delete(Organisation).where(Organisation.id == org.id))


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


def rejected(session: Session, *, tax_code: str, email: str) -> list[Row]:
    """Rejected applications holding this tax code or this e-mail address."""
    stmt = _ROWS.where(
        Registration.state == "rejected",
        or_(Organisation.tax_code == tax_code, User.email == email.strip().lower()),
    ).order_by(Registration.id)
    return [(r, o, u) for r, o, u in session.execute(stmt)]
