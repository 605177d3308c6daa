"""Sign-in, sign-out, password change and the API-key page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from txng.accounts import service
from txng.errors import N_, TooManyRequests, ValidationFailed, field_error
from txng.web.deps import CSRF, DB, SESSION_COOKIE, DbId, PageCaller, client_ip
from txng.web.forms import field_messages
from txng.web.pages import safe_next
from txng.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "accounts/login.html", {"next": safe_next(next), "form": {}})


@router.post("/login", dependencies=[CSRF])
def login(
    request: Request,
    db: DB,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    settings = request.app.state.settings
    limiter = request.app.state.login_limiter
    ip = client_ip(request)
    # Per address and e-mail (guessing one password), and per address alone (trying many users).
    if not limiter.allow(f"{ip}|{email.lower()}") or not limiter.allow(f"{ip}|*", limit=50):
        raise TooManyRequests()
    try:
        if not email.strip():
            raise field_error("/email", N_("This field is required"), "missing")
        user = service.authenticate(db, email=email, password=password)
    except ValidationFailed as exc:
        return render(
            request,
            "accounts/login.html",
            {
                "next": safe_next(next),
                "form": {"email": email},
                "errors": field_messages(request.state.locale, exc),
            },
            status_code=422,
        )
    token = service.start_session(
        db,
        user=user,
        hours=settings.session_hours,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CSRF])
def logout(request: Request, db: DB) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(db, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
def password_form(request: Request, caller: PageCaller) -> Response:
    return render(request, "accounts/password.html", {})


@router.post("/account/password", dependencies=[CSRF])
def change_password(
    request: Request,
    caller: PageCaller,
    db: DB,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
) -> Response:
    try:
        if new_password != confirm_password:
            raise field_error("/confirm_password", N_("The two new passwords differ"))
        service.change_password(
            db,
            actor=caller,
            current_password=current_password,
            new_password=new_password,
            keep_session_token=request.cookies.get(SESSION_COOKIE),
        )
    except ValidationFailed as exc:
        return render(
            request,
            "accounts/password.html",
            {"errors": field_messages(request.state.locale, exc)},
            status_code=422,
        )
    return render(request, "accounts/password.html", {"changed": True})


def _keys_page(request: Request, caller: PageCaller, db: DB, **extra: object) -> Response:
    organisation_id = caller.organisation_id
    keys = (
        service.list_api_keys(db, actor=caller, organisation_id=organisation_id)
        if organisation_id is not None and caller.may_manage_organisation(organisation_id)
        else None
    )
    status_code = 422 if extra.get("errors") else 200
    return render(request, "accounts/api_keys.html", {"keys": keys, **extra}, status_code)


@router.get("/account/api-keys")
def api_keys(request: Request, caller: PageCaller, db: DB) -> Response:
    return _keys_page(request, caller, db)


@router.post("/account/api-keys", dependencies=[CSRF])
def create_api_key(request: Request, caller: PageCaller, db: DB, name: str = Form("")) -> Response:
    if caller.organisation_id is None:
        return _keys_page(request, caller, db)
    try:
        key, full = service.create_api_key(
            db, actor=caller, organisation_id=caller.organisation_id, name=name
        )
    except ValidationFailed as exc:
        return _keys_page(
            request,
            caller,
            db,
            errors=field_messages(request.state.locale, exc),
            form={"name": name},
        )
    return _keys_page(request, caller, db, new_key=full, new_key_name=key.name)


@router.post("/account/api-keys/{key_id}/revoke", dependencies=[CSRF])
def revoke_api_key(request: Request, key_id: DbId, caller: PageCaller, db: DB) -> Response:
    if caller.organisation_id is not None:
        service.revoke_api_key(
            db, actor=caller, organisation_id=caller.organisation_id, key_id=key_id
        )
    return RedirectResponse("/account/api-keys", status_code=303)
