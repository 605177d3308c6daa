"""All SQL of accounts: users, web sessions, API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from txng.models import ApiKey, User, WebSession


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def add(session: Session, obj: User | WebSession | ApiKey) -> None:
    session.add(obj)


def session_with_user(
    session: Session, token_hash: str, now: datetime
) -> tuple[WebSession, User] | None:
    stmt = (
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(
            WebSession.token_hash == token_hash,
            WebSession.expires_at > now,
            User.is_active.is_(True),
        )
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else None


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def delete_sessions_of(session: Session, user_id: int, *, keep_hash: str | None = None) -> None:
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_hash is not None:
        stmt = stmt.where(WebSession.token_hash != keep_hash)
    session.execute(stmt)


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def api_keys_of(session: Session, organisation_id: int) -> list[ApiKey]:
    stmt = (
        select(ApiKey)
        .where(ApiKey.organisation_id == organisation_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())
    )
    return list(session.scalars(stmt))


def api_key_of(session: Session, organisation_id: int, key_id: int) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id, ApiKey.organisation_id == organisation_id)
    return session.scalars(stmt).first()
