"""Request dependencies: the database session (the transaction boundary), the caller, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal
from txng.accounts.security import constant_time_equal
from txng.db import session_scope
from txng.errors import N_, Forbidden, Unauthenticated
from txng.models import User

SESSION_COOKIE = "txng_session"
CSRF_COOKIE = "txng_csrf"
LANG_COOKIE = "txng_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**63 - 1  # larger numbers cannot be a row id on either database

DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalDbId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def get_db(request: Request) -> Iterator[Session]:
    """One session per request: commit when the endpoint returns, roll back when it raises."""
    with session_scope(request.app.state.sessionmaker) as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx always means "stored".
DB = Annotated[Session, Depends(get_db, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _resolve(request: Request, session: Session) -> Principal | None:
    if hasattr(request.state, "principal"):
        return request.state.principal  # type: ignore[no-any-return]
    principal: Principal | None = None
    user: User | None = None
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        principal = accounts_service.principal_for_api_key(
            session, key=auth[7:].strip(), ip_address=client_ip(request)
        )
        if principal is None:
            raise Unauthenticated()
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            user = accounts_service.user_for_session(session, token)
            if user is not None:
                principal = accounts_service.principal_of(user, ip_address=client_ip(request))
    request.state.principal = principal
    request.state.user = user
    return principal


def optional_principal(request: Request, session: DB) -> Principal | None:
    return _resolve(request, session)


def check_csrf_header(request: Request) -> None:
    """API calls authenticated by the session cookie must echo the CSRF token in a header."""
    principal = getattr(request.state, "principal", None)
    if request.method in SAFE_METHODS or (principal is not None and principal.api_key_id):
        return
    sent = request.headers.get("x-csrf-token", "")
    if not sent or not constant_time_equal(sent, request.state.csrf_token):
        raise Forbidden(N_("Missing or wrong CSRF token"))


def api_principal(request: Request, session: DB) -> Principal:
    principal = _resolve(request, session)
    if principal is None:
        raise Unauthenticated()
    check_csrf_header(request)
    return principal


class LoginRequired(Exception):
    """Raised by page dependencies; rendered as a redirect to the sign-in page."""


def page_principal(request: Request, session: DB) -> Principal:
    principal = _resolve(request, session)
    if principal is None or principal.user_id is None:
        raise LoginRequired()
    return principal


async def verify_csrf(request: Request) -> None:
    """Every page form carries the token of the double-submit cookie."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    sent = form.get("csrf_token")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not cookie or not constant_time_equal(sent, cookie):
        raise Forbidden(N_("Missing or wrong CSRF token"))


ApiCaller = Annotated[Principal, Depends(api_principal)]
PageCaller = Annotated[Principal, Depends(page_principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
CSRF = Depends(verify_csrf)
