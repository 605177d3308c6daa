"""Self-registration (C7): apply, confirm the e-mail address, be approved or rejected.

An application creates an organisation in state ``pending`` and an inactive enterprise
administrator through the registry and accounts services; approval activates both. Services
return the e-mails to send; the page sends them after the transaction has committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txng.accounts import security
from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.config import Settings
from txng.errors import N_, Conflict, ErrorCollector, NotFound, ValidationFailed, field_error
from txng.kit import files
from txng.kit.taxcode import TaxCodeError, normalize_tax_code
from txng.mail.compose import compose
from txng.models import Organisation, Registration, User
from txng.models.base import utcnow
from txng.onboarding import repository, tokens
from txng.onboarding.exceptions import LinkExpired, LinkInvalid
from txng.onboarding.schemas import RegistrationIn, RegistrationState
from txng.registry import service as registry_service
from txng.registry.schemas import OrganisationIn

MAX_REASON_LENGTH = 2000
# The registry and accounts services' own words for a duplicate, for the loser of a race.
DUPLICATE_TAX_CODE = N_("An organisation with this tax code is already registered")
DUPLICATE_EMAIL = N_("This e-mail address is already registered")


@dataclass(frozen=True)
class OnboardingConfig:
    """What onboarding needs from the settings and the request."""

    base_url: str
    secret: str
    mail_from: str
    province_code: str
    province_name: str
    link_hours: int
    media_dir: Path
    max_document_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings, *, base_url: str) -> OnboardingConfig:
        return cls(
            base_url=(settings.public_base_url or base_url).rstrip("/"),
            secret=settings.resolved_secret(),
            mail_from=settings.smtp_from,
            province_code=settings.province_code,
            province_name=settings.province_name,
            link_hours=settings.registration_link_hours,
            media_dir=settings.media_dir,
            max_document_bytes=settings.max_document_bytes,
        )

    def status_url(self, registration_id: int) -> str:
        return f"{self.base_url}/register/status/{tokens.status_key(self.secret, registration_id)}"


def _snapshot(reg: Registration) -> dict[str, Any]:
    return audit.snapshot(reg, ("state", "reason", "decided_by_user_id", "decided_at"))


def _mail(
    config: OnboardingConfig, template: str, row: repository.Row, **extra: Any
) -> EmailMessage:
    reg, org, user = row
    context = {
        "province_name": config.province_name,
        "full_name": user.full_name,
        "organisation_name": org.name,
        "tax_code": org.tax_code,
        "status_url": config.status_url(reg.id),
        "login_url": f"{config.base_url}/login",
        **extra,
    }
    return compose(
        template, to=user.email, sender=config.mail_from, locale=reg.locale, context=context
    )


def _check_upload(
    errors: ErrorCollector, data: bytes | None, filename: str, max_bytes: int
) -> None:
    if not data:
        errors.add("/business_registration", N_("This field is required"), "missing")
        return
    try:
        files.check_upload(
            data, original_name=filename, allowed=files.DOCUMENT_TYPES, max_bytes=max_bytes
        )
    except files.UploadError as exc:
        errors.add("/business_registration", exc.msgid, exc.code, **exc.params)


def _create_organisation(
    session: Session, errors: ErrorCollector, config: OnboardingConfig, data: RegistrationIn
) -> Organisation | None:
    org_in = OrganisationIn.model_validate(
        {
            "kind": data.kind,
            "name": data.name,
            "tax_code": data.tax_code,
            "sector": data.sector,
            "province_code": config.province_code,
            "commune_code": data.commune_code,
            "street_address": data.street_address,
            "contact_name": data.full_name,
            "phone": data.phone,
            "email": data.email.lower(),
        }
    )
    try:
        with repository.insert_or_lose_race(session):
            return registry_service.register_organisation(session, actor=None, data=org_in)
    except ValidationFailed as exc:
        errors.errors.extend(exc.errors)
    except IntegrityError:
        # Another application with this tax code committed after the check: the same answer as
        # if it had come first. (The organisation table's only other unique key, the GLN, is
        # not on the form.)
        errors.add("/tax_code", DUPLICATE_TAX_CODE, "duplicate")
    return None


def _create_user(
    session: Session,
    errors: ErrorCollector,
    data: RegistrationIn,
    org: Organisation | None,
    locale: str,
) -> User | None:
    try:
        # Without an organisation the accounts service still checks e-mail and password, then
        # refuses for want of the organisation: the applicant sees every field error at once.
        with repository.insert_or_lose_race(session):
            return accounts_service.create_user(
                session,
                actor=None,
                email=data.email,
                full_name=data.full_name,
                password=data.password,
                role=Role.ENTERPRISE_ADMIN,
                organisation_id=org.id if org else None,
                locale=locale,
            )
    except ValidationFailed as exc:
        errors.errors.extend(e for e in exc.errors if e.field != "/organisation_id")
    except IntegrityError:
        # Another account with this e-mail address committed after the check (the only unique
        # key of a new account).
        errors.add("/email", DUPLICATE_EMAIL, "duplicate")
    return None


def register(
    session: Session,
    *,
    config: OnboardingConfig,
    data: RegistrationIn,
    upload: bytes | None,
    filename: str,
    locale: str,
    ip_address: str | None,
) -> tuple[Registration, EmailMessage]:
    """Apply for an account; on any field error nothing is kept (the boundary rolls back)."""
    errors = ErrorCollector()
    _check_upload(errors, upload, filename, config.max_document_bytes)
    if data.password != data.confirm_password:
        errors.add("/confirm_password", N_("The two passwords differ"), "mismatch")
    replaced = _release_rejected(session, data)
    org = _create_organisation(session, errors, config, data)
    user = _create_user(session, errors, data, org, locale)
    errors.raise_if_any()
    if org is None or user is None or upload is None:  # unreachable: each case added an error
        raise ValidationFailed()
    applicant = accounts_service.principal_of(user, ip_address=ip_address)
    registry_service.attach_business_registration(
        session,
        actor=applicant,
        organisation_id=org.id,
        data=upload,
        filename=filename,
        media_dir=config.media_dir,
        max_bytes=config.max_document_bytes,
    )
    org.status = "pending"
    user.is_active = False
    reg = Registration(
        organisation_id=org.id,
        user_id=user.id,
        commune_code=org.commune_code,
        state=RegistrationState.PENDING_VERIFICATION.value,
        locale=locale,
    )
    link_token = _new_link(config, reg)
    repository.add(session, reg)
    session.flush()
    audit.record(
        session,
        actor=applicant,
        action="registration.submitted",
        entity_type="registration",
        entity_id=reg.id,
        organisation_id=org.id,
        after={
            **_snapshot(reg),
            "organisation_status": "pending",
            "user_active": False,
            "replaces_registration_ids": [old[0].id for old, _ in replaced],
        },
    )
    _discard_replaced(session, applicant=applicant, replaced=replaced, by=reg)
    return reg, _verify_mail(config, (reg, org, user), link_token)


def _release_rejected(
    session: Session, data: RegistrationIn
) -> list[tuple[repository.Row, dict[str, Any]]]:
    """A rejected applicant applies afresh: the new application replaces the rejected one.

    The rejected application's tax code and e-mail address are freed, so that the new one passes
    every check a first one does; pending and approved applications still block. Its rows are
    deleted once the new one is stored; a failed application is rolled back by the boundary and
    leaves the rejected one as it was.
    """
    try:
        tax_code = normalize_tax_code(data.tax_code)
    except TaxCodeError:
        tax_code = data.tax_code
    replaced = []
    for row in repository.rejected(session, tax_code=tax_code, email=data.email):
        reg, org, user = row
        before = {**_snapshot(reg), "tax_code": org.tax_code, "email": user.email}
        repository.release_keys(session, row)
        replaced.append((row, before))
    return replaced


def _discard_replaced(
    session: Session,
    *,
    applicant: Principal,
    replaced: list[tuple[repository.Row, dict[str, Any]]],
    by: Registration,
) -> None:
    """Delete the rejected applications the new one replaces; the audit log says which."""
    for row, before in replaced:
        old_reg, old_org, _ = row
        repository.discard(session, row)
        audit.record(
            session,
            actor=applicant,
            action="registration.replaced",
            entity_type="registration",
            entity_id=old_reg.id,
            organisation_id=old_org.id,
            before=before,
            after={"replaced_by_registration_id": by.id},
        )


def _new_link(config: OnboardingConfig, reg: Registration) -> str:
    """A fresh verification link token; any earlier one stops working."""
    link_token, token_hash = tokens.new_verify_link_token(config.secret)
    reg.token_hash = token_hash
    reg.token_expires_at = utcnow() + timedelta(hours=config.link_hours)
    return link_token


def _verify_mail(config: OnboardingConfig, row: repository.Row, link_token: str) -> EmailMessage:
    return _mail(
        config,
        "registration_verify",
        row,
        verify_url=f"{config.base_url}/register/verify/{link_token}",
        expires_at=row[0].token_expires_at,
    )


def resend_link(
    session: Session, *, config: OnboardingConfig, key: str, ip_address: str | None
) -> tuple[Registration, EmailMessage]:
    """Send a new verification link, e.g. when the first one expired or was lost."""
    row = status_by_key(session, config=config, key=key)
    reg, org, user = row
    if reg.state != RegistrationState.PENDING_VERIFICATION:
        raise Conflict(N_("This e-mail address is already confirmed"))
    link_token = _new_link(config, reg)
    audit.record(
        session,
        actor=accounts_service.principal_of(user, ip_address=ip_address),
        action="registration.link_resent",
        entity_type="registration",
        entity_id=reg.id,
        organisation_id=org.id,
        after={"token_expires_at": reg.token_expires_at},
    )
    return reg, _verify_mail(config, row, link_token)


def verify(
    session: Session, *, config: OnboardingConfig, link_token: str, ip_address: str | None
) -> repository.Row:
    """Confirm the applicant's e-mail address; the link works once and until it expires."""
    token_hash = tokens.verify_link_hash(config.secret, link_token)
    row = repository.by_token_hash(session, token_hash) if token_hash else None
    if row is None:
        raise LinkInvalid()
    reg, org, user = row
    if reg.state != RegistrationState.PENDING_VERIFICATION:
        raise LinkInvalid()
    if reg.token_expires_at is None or reg.token_expires_at <= utcnow():
        raise LinkExpired()
    before = _snapshot(reg)
    reg.state = RegistrationState.PENDING_APPROVAL.value
    reg.token_hash = None
    reg.verified_at = utcnow()
    audit.record(
        session,
        actor=accounts_service.principal_of(user, ip_address=ip_address),
        action="registration.verified",
        entity_type="registration",
        entity_id=reg.id,
        organisation_id=org.id,
        before=before,
        after=_snapshot(reg),
    )
    return row


def queue(session: Session, *, actor: Principal, state: RegistrationState) -> list[repository.Row]:
    """The registrations the caller decides on: all for admins, their communes' for officers."""
    if not repository.may_see_queue(actor):
        raise NotFound()
    return repository.queue(session, actor, state=state.value)


def get(session: Session, *, actor: Principal, registration_id: int) -> repository.Row:
    row = repository.scoped(session, actor, registration_id)
    if row is None:
        raise NotFound()
    return row


def _decide(
    session: Session,
    *,
    reviewer: Principal,
    registration_id: int,
    state: RegistrationState,
    reason: str | None,
) -> repository.Row:
    row = get(session, actor=reviewer, registration_id=registration_id)
    reg, org, user = row
    if reg.state != RegistrationState.PENDING_APPROVAL:
        raise Conflict(N_("This registration is not awaiting a decision"))
    before = {**_snapshot(reg), "organisation_status": org.status, "user_active": user.is_active}
    reg.state = state.value
    reg.reason = reason
    reg.decided_by_user_id = reviewer.user_id
    reg.decided_at = utcnow()
    approved = state == RegistrationState.APPROVED
    org.status = "active" if approved else "rejected"
    user.is_active = approved
    audit.record(
        session,
        actor=reviewer,
        action=f"registration.{state.value}",
        entity_type="registration",
        entity_id=reg.id,
        organisation_id=org.id,
        before=before,
        after={**_snapshot(reg), "organisation_status": org.status, "user_active": approved},
    )
    return row


def approve(
    session: Session, *, config: OnboardingConfig, reviewer: Principal, registration_id: int
) -> tuple[Registration, EmailMessage]:
    """Approve: the organisation becomes active and its administrator may sign in."""
    row = _decide(
        session,
        reviewer=reviewer,
        registration_id=registration_id,
        state=RegistrationState.APPROVED,
        reason=None,
    )
    return row[0], _mail(config, "registration_approved", row)


def reject(
    session: Session,
    *,
    config: OnboardingConfig,
    reviewer: Principal,
    registration_id: int,
    reason: str,
) -> tuple[Registration, EmailMessage]:
    """Reject with a reason, which the applicant sees on the status page and in the e-mail."""
    reason = reason.strip()
    if not reason:
        # Look the registration up first: outside the scope is 404, not a field error.
        get(session, actor=reviewer, registration_id=registration_id)
        raise field_error("/reason", N_("Give the reason for the rejection"), "missing")
    if len(reason) > MAX_REASON_LENGTH:
        raise field_error("/reason", N_("At most %(n)s characters"), n=MAX_REASON_LENGTH)
    row = _decide(
        session,
        reviewer=reviewer,
        registration_id=registration_id,
        state=RegistrationState.REJECTED,
        reason=reason,
    )
    return row[0], _mail(config, "registration_rejected", row, reason=reason)


def status_by_key(session: Session, *, config: OnboardingConfig, key: str) -> repository.Row:
    """The registration behind the status link of the applicant's e-mails."""
    registration_id = tokens.registration_of_status_key(config.secret, key)
    row = repository.by_id(session, registration_id) if registration_id else None
    if row is None:
        raise NotFound()
    return row


def status_by_credentials(session: Session, *, email: str, password: str) -> repository.Row:
    """The applicant's own registration, for an account that cannot sign in yet."""
    row = repository.by_email(session, email) if email.strip() else None
    if row is None:
        security.verify_password(security.DUMMY_HASH, password)
        raise field_error("/password", N_("Wrong e-mail address or password"), "wrong_credentials")
    if not security.verify_password(row[2].password_hash, password):
        raise field_error("/password", N_("Wrong e-mail address or password"), "wrong_credentials")
    return row
