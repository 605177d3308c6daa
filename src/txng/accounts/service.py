"""Sign-in, sessions, passwords and API keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from txng.accounts import repository, security
from txng.accounts.roles import Principal, Role, Sector
from txng.audit import service as audit
from txng.errors import N_, ErrorCollector, Forbidden, NotFound, field_error
from txng.models import ApiKey, User, WebSession
from txng.models.base import utcnow

MIN_PASSWORD_LENGTH = 10


def principal_of(user: User, *, ip_address: str | None = None) -> Principal:
    return Principal(
        role=Role(user.role),
        label=f"{user.full_name} <{user.email}>",
        user_id=user.id,
        organisation_id=user.organisation_id,
        sector=Sector(user.sector) if user.sector else None,
        communes=frozenset(user.communes or ()),
        ip_address=ip_address,
    )


def _check_new_password(errors: ErrorCollector, pointer: str, password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            pointer,
            N_("Use at least %(n)s characters"),
            "too_short",
            n=MIN_PASSWORD_LENGTH,
        )
    elif password.lower() == email.lower():
        errors.add(pointer, N_("The password must not be your e-mail address"), "weak")


def create_user(
    session: Session,
    *,
    actor: Principal | None,
    email: str,
    full_name: str,
    password: str,
    role: Role,
    organisation_id: int | None = None,
    sector: Sector | None = None,
    communes: Iterable[str] = (),
    locale: str = "vi",
) -> User:
    """Create an account; system setup and demo loading pass ``actor=None``."""
    if actor is not None and not actor.is_admin:
        raise Forbidden()
    errors = ErrorCollector()
    email = email.strip().lower()
    if "@" not in email:
        errors.add("/email", N_("Enter a valid e-mail address"))
    elif repository.user_by_email(session, email) is not None:
        errors.add("/email", N_("This e-mail address is already registered"), "duplicate")
    _check_new_password(errors, "/password", password, email)
    if role in (Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_STAFF) and organisation_id is None:
        errors.add("/organisation_id", N_("Enterprise users belong to an organisation"))
    if role == Role.SECTOR_REVIEWER and sector is None:
        errors.add("/sector", N_("A sector reviewer needs a sector"))
    communes = sorted(set(communes))
    if role == Role.COMMUNE_OFFICER and not communes:
        errors.add("/communes", N_("A commune officer needs at least one commune"))
    errors.raise_if_any()
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=security.hash_password(password),
        role=role.value,
        organisation_id=organisation_id,
        sector=sector.value if sector else None,
        communes=communes,
        locale=locale,
    )
    repository.add(session, user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        organisation_id=organisation_id,
        after={"email": email, "role": role.value, "organisation_id": organisation_id},
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The user with these credentials; a wrong e-mail and a wrong password look the same."""
    user = repository.user_by_email(session, email)
    if user is None or not user.is_active:
        security.verify_password(security.DUMMY_HASH, password)
        raise field_error("/password", N_("Wrong e-mail address or password"), "wrong_credentials")
    if not security.verify_password(user.password_hash, password):
        raise field_error("/password", N_("Wrong e-mail address or password"), "wrong_credentials")
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.last_login_at = utcnow()
    return user


def start_session(
    session: Session,
    *,
    user: User,
    hours: int,
    ip_address: str | None,
    user_agent: str | None,
) -> str:
    """Open a web session and return the cookie token (only its hash is stored)."""
    token = security.new_token()
    repository.add(
        session,
        WebSession(
            token_hash=security.token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=hours),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300],
        ),
    )
    audit.record(
        session,
        actor=principal_of(user, ip_address=ip_address),
        action="user.signed_in",
        entity_type="user",
        entity_id=user.id,
        organisation_id=user.organisation_id,
    )
    return token


def user_for_session(session: Session, token: str) -> User | None:
    found = repository.session_with_user(session, security.token_hash(token), utcnow())
    return found[1] if found else None


def end_session(session: Session, *, token: str) -> None:
    repository.delete_session(session, security.token_hash(token))


def change_password(
    session: Session,
    *,
    actor: Principal,
    current_password: str,
    new_password: str,
    keep_session_token: str | None = None,
) -> None:
    """Change the caller's own password and sign out their other sessions."""
    if actor.user_id is None:
        raise Forbidden()
    user = repository.user_by_id(session, actor.user_id)
    if user is None:
        raise NotFound()
    errors = ErrorCollector()
    if not security.verify_password(user.password_hash, current_password):
        errors.add("/current_password", N_("The current password is wrong"), "wrong_credentials")
    _check_new_password(errors, "/new_password", new_password, user.email)
    errors.raise_if_any()
    user.password_hash = security.hash_password(new_password)
    user.password_changed_at = utcnow()
    keep = security.token_hash(keep_session_token) if keep_session_token else None
    repository.delete_sessions_of(session, user.id, keep_hash=keep)
    audit.record(
        session,
        actor=actor,
        action="user.password_changed",
        entity_type="user",
        entity_id=user.id,
        organisation_id=user.organisation_id,
    )


def principal_for_api_key(
    session: Session, *, key: str, ip_address: str | None = None
) -> Principal | None:
    prefix = security.split_api_key(key)
    if prefix is None:
        return None
    api_key = repository.api_key_by_prefix(session, prefix)
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not security.constant_time_equal(api_key.key_hash, security.token_hash(key)):
        return None
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=5):
        api_key.last_used_at = now
    return Principal(
        role=Role.ENTERPRISE_STAFF,
        label=f"API key {api_key.name} ({api_key.prefix})",
        api_key_id=api_key.id,
        organisation_id=api_key.organisation_id,
        ip_address=ip_address,
    )


def create_api_key(
    session: Session, *, actor: Principal | None, organisation_id: int, name: str
) -> tuple[ApiKey, str]:
    """Create a key for the organisation; the full key is returned once and never stored."""
    if actor is not None and not actor.may_manage_organisation(organisation_id):
        raise NotFound()
    name = name.strip()
    if not name:
        raise field_error("/name", N_("Give the key a name, e.g. the system that will use it"))
    if len(name) > 100:
        raise field_error("/name", N_("At most %(n)s characters"), n=100)
    full, prefix, key_hash = security.new_api_key()
    api_key = ApiKey(
        organisation_id=organisation_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        created_by_user_id=actor.user_id if actor else None,
    )
    repository.add(session, api_key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_key.created",
        entity_type="api_key",
        entity_id=api_key.id,
        organisation_id=organisation_id,
        after={"name": name, "prefix": prefix},
    )
    return api_key, full


def list_api_keys(session: Session, *, actor: Principal, organisation_id: int) -> list[ApiKey]:
    if not actor.may_manage_organisation(organisation_id):
        raise NotFound()
    return repository.api_keys_of(session, organisation_id)


def revoke_api_key(
    session: Session, *, actor: Principal, organisation_id: int, key_id: int
) -> ApiKey:
    if not actor.may_manage_organisation(organisation_id):
        raise NotFound()
    api_key = repository.api_key_of(session, organisation_id, key_id)
    if api_key is None:
        raise NotFound()
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="api_key.revoked",
            entity_type="api_key",
            entity_id=api_key.id,
            organisation_id=organisation_id,
            before={"revoked_at": None},
            after={"revoked_at": api_key.revoked_at},
        )
    return api_key
