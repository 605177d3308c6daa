"""Public registration pages and the approval queue of provincial admins and commune officers."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from txng.accounts.roles import SECTOR_LABELS
from txng.errors import TooManyRequests, ValidationFailed
from txng.kit.adminunits import admin_units
from txng.mail.sender import MailSender, deliver, sender_from_settings
from txng.models import Organisation, Registration
from txng.onboarding import service, tokens
from txng.onboarding.schemas import STATE_LABELS, RegistrationIn, RegistrationState
from txng.registry import labels
from txng.web.deps import CSRF, DB, DbId, PageCaller, client_ip
from txng.web.forms import field_messages, from_validation_error
from txng.web.ratelimit import RateLimiter
from txng.web.templating import render

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = (
    "kind", "name", "tax_code", "sector", "commune_code", "street_address", "full_name",
    "email", "phone",
)  # fmt: skip
SECRET_FIELDS = ("password", "confirm_password")
QUEUE_STATES = (
    RegistrationState.PENDING_APPROVAL,
    RegistrationState.APPROVED,
    RegistrationState.REJECTED,
)


def _render(
    request: Request, template: str, ctx: dict[str, Any], status_code: int = 200
) -> Response:
    return render(request, template, {"STATE_LABELS": STATE_LABELS, **ctx}, status_code)


def _config(request: Request) -> service.OnboardingConfig:
    return service.OnboardingConfig.from_settings(
        request.app.state.settings, base_url=str(request.base_url)
    )


def _sender(request: Request) -> MailSender:
    sender: MailSender | None = getattr(request.app.state, "mail_sender", None)
    return sender or sender_from_settings(request.app.state.settings)


def _send_after_commit(request: Request, tasks: BackgroundTasks, message: EmailMessage) -> None:
    # Background tasks run after the response, and the DB dependency commits before it.
    tasks.add_task(deliver, _sender(request), message)


def _rate_limit(request: Request, action: str) -> None:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "onboarding_limiter", None)
    if limiter is None:
        limiter = state.onboarding_limiter = RateLimiter(
            state.settings.registration_rate_per_hour, 3600.0
        )
    if not limiter.allow(f"{action}|{client_ip(request)}"):
        raise TooManyRequests()


def _choices(request: Request) -> dict[str, Any]:
    communes = admin_units().communes_of(request.app.state.settings.province_code)
    return {
        "commune_options": [(c.code, c.name) for c in communes],
        "org_kind_options": list(labels.ORGANISATION_KIND_LABELS.items()),
        "sector_options": [(k.value, v) for k, v in SECTOR_LABELS.items()],
    }


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# applicant -------------------------------------------------------------------------------


@router.get("/register")
def register_form(request: Request) -> Response:
    return _render(request, "onboarding/register.html", {**_choices(request), "form": {}})


@router.post("/register", dependencies=[CSRF])
async def register(request: Request, db: DB, tasks: BackgroundTasks) -> Response:
    settings = request.app.state.settings
    form = await request.form()
    values = {name: _text(form, name) for name in TEXT_FIELDS}
    secrets_ = {name: form.get(name) or "" for name in SECRET_FIELDS}
    file = form.get("business_registration")
    upload = filename = None
    if isinstance(file, UploadFile) and file.filename:
        upload = await file.read(settings.max_document_bytes + 1)
        filename = file.filename
    await form.close()  # the spooled upload file; its bytes are read
    _rate_limit(request, "register")
    try:
        try:
            data = RegistrationIn.model_validate({**values, **secrets_})
        except ValidationError as exc:
            raise from_validation_error(exc) from exc
        _, message = service.register(
            db,
            config=_config(request),
            data=data,
            upload=upload,
            filename=filename or "",
            locale=request.state.locale,
            ip_address=client_ip(request),
        )
    except ValidationFailed as exc:
        db.rollback()
        ctx = {**_choices(request), "form": values}
        ctx["errors"] = field_messages(request.state.locale, exc)
        return _render(request, "onboarding/register.html", ctx, status_code=422)
    _send_after_commit(request, tasks, message)
    return RedirectResponse("/register/sent", status_code=303)


@router.get("/register/sent")
def register_sent(request: Request) -> Response:
    return _render(request, "onboarding/sent.html", {})


@router.get("/register/verify/{token}")
def verify(request: Request, token: str, db: DB) -> Response:
    _rate_limit(request, "verify")
    config = _config(request)
    reg, org, _ = service.verify(
        db, config=config, link_token=token[:200], ip_address=client_ip(request)
    )
    ctx = {"reg": reg, "org": org, "status_url": config.status_url(reg.id)}
    return _render(request, "onboarding/verified.html", ctx)


@router.get("/register/status")
def status_form(request: Request) -> Response:
    return _render(request, "onboarding/status.html", {"form": {}})


@router.post("/register/status", dependencies=[CSRF])
def status_signed_in(
    request: Request, db: DB, email: str = Form(""), password: str = Form("")
) -> Response:
    _rate_limit(request, "status")
    try:
        reg, org, _ = service.status_by_credentials(db, email=email, password=password)
    except ValidationFailed as exc:
        ctx = {"form": {"email": email}, "errors": field_messages(request.state.locale, exc)}
        return _render(request, "onboarding/status.html", ctx, status_code=422)
    return _status_page(request, reg, org)


def _status_page(request: Request, reg: Registration, org: Organisation, **extra: Any) -> Response:
    key = tokens.status_key(request.app.state.settings.resolved_secret(), reg.id)
    ctx = {"reg": reg, "org": org, "status_key": key, **extra}
    return _render(request, "onboarding/status.html", ctx)


@router.get("/register/status/{key}")
def status_by_link(request: Request, key: str, db: DB) -> Response:
    reg, org, _ = service.status_by_key(db, config=_config(request), key=key[:100])
    return _status_page(request, reg, org, resent=request.query_params.get("resent"))


@router.post("/register/status/{key}/resend", dependencies=[CSRF])
def resend_link(request: Request, key: str, db: DB, tasks: BackgroundTasks) -> Response:
    _rate_limit(request, "resend")
    _, message = service.resend_link(
        db, config=_config(request), key=key[:100], ip_address=client_ip(request)
    )
    _send_after_commit(request, tasks, message)
    return RedirectResponse(f"/register/status/{key[:100]}?resent=1", status_code=303)


# authorities -----------------------------------------------------------------------------


@router.get("/admin/registrations")
def queue(request: Request, caller: PageCaller, db: DB, state: str = "") -> Response:
    chosen = next((s for s in QUEUE_STATES if s.value == state), QUEUE_STATES[0])
    rows = service.queue(db, actor=caller, state=chosen)
    ctx = {"rows": rows, "state": chosen.value, "states": QUEUE_STATES}
    return _render(request, "onboarding/queue.html", ctx)


def _detail(
    request: Request, caller: PageCaller, db: DB, registration_id: int, **extra: Any
) -> Response:
    reg, org, user = service.get(db, actor=caller, registration_id=registration_id)
    ctx = {"reg": reg, "org": org, "applicant": user, **extra}
    status_code = 422 if extra.get("errors") else 200
    return _render(request, "onboarding/detail.html", ctx, status_code=status_code)


@router.get("/admin/registrations/{registration_id}")
def detail(request: Request, registration_id: DbId, caller: PageCaller, db: DB) -> Response:
    return _detail(request, caller, db, registration_id, decided=request.query_params.get("done"))


@router.post("/admin/registrations/{registration_id}/approve", dependencies=[CSRF])
def approve(
    request: Request,
    registration_id: DbId,
    caller: PageCaller,
    db: DB,
    tasks: BackgroundTasks,
) -> Response:
    _, message = service.approve(
        db, config=_config(request), reviewer=caller, registration_id=registration_id
    )
    _send_after_commit(request, tasks, message)
    return RedirectResponse(f"/admin/registrations/{registration_id}?done=1", status_code=303)


@router.post("/admin/registrations/{registration_id}/reject", dependencies=[CSRF])
def reject(
    request: Request,
    registration_id: DbId,
    caller: PageCaller,
    db: DB,
    tasks: BackgroundTasks,
    reason: str = Form(""),
) -> Response:
    try:
        _, message = service.reject(
            db,
            config=_config(request),
            reviewer=caller,
            registration_id=registration_id,
            reason=reason,
        )
    except ValidationFailed as exc:
        errors = field_messages(request.state.locale, exc)
        return _detail(request, caller, db, registration_id, errors=errors, form={"reason": reason})
    _send_after_commit(request, tasks, message)
    return RedirectResponse(f"/admin/registrations/{registration_id}?done=1", status_code=303)
