"""Sign-in, sign-out and password change through the real pages."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role
from txng.models import AuditEntry, User


def test_wrong_password_is_shown_next_to_the_field_in_vietnamese(
    client: TestClient, db_session: Session
) -> None:
    user = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    token = f.csrf_of(client)
    response = client.post(
        "/login", data={"email": user.email, "password": "wrong-password", "csrf_token": token}
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="e-password"' in html
    message = html.split('id="e-password"')[1].split("</p>")[0]
    assert "mật khẩu" in message.lower()
    assert "txng_session" not in response.headers.get("set-cookie", "")


def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_the_session(
    client: TestClient, db_session: Session
) -> None:
    user = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    token = f.csrf_of(client)
    response = client.post(
        "/login",
        data={"email": user.email.upper(), "password": f.PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "txng_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/registry/products").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    response = client.get("/registry/products", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_forms_without_the_csrf_token_are_refused(client: TestClient, db_session: Session) -> None:
    user = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": f.PASSWORD})
    assert response.status_code == 403
    response = client.post(
        "/login", data={"email": user.email, "password": f.PASSWORD, "csrf_token": "forged" * 5}
    )
    assert response.status_code == 403


def test_password_change_checks_the_current_password_and_signs_out_other_sessions(
    client: TestClient, app, db_session: Session
) -> None:
    user = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    other = TestClient(app)
    f.login(other, user.email)
    f.login(client, user.email)
    token = f.csrf_of(client, "/account/password")
    bad = client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "new_password": "short",
            "confirm_password": "short",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert 'id="e-current_password"' in bad.text
    assert 'id="e-new_password"' in bad.text
    ok = client.post(
        "/account/password",
        data={
            "current_password": f.PASSWORD,
            "new_password": "a-much-longer-pass",
            "confirm_password": "a-much-longer-pass",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 200
    assert client.get("/account/password", follow_redirects=False).status_code == 200
    assert other.get("/account/password", follow_redirects=False).status_code == 303
    fresh = TestClient(app)
    f.login(fresh, user.email, "a-much-longer-pass")
    db_session.expire_all()
    stored = db_session.scalars(select(User).where(User.id == user.id)).one()
    assert stored.password_hash.startswith("$argon2id$")
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(user.id))
    )
    assert "user.password_changed" in set(actions)


def test_repeated_failed_sign_ins_are_rate_limited(client: TestClient, db_session: Session) -> None:
    user = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    token = f.csrf_of(client)
    codes = [
        client.post(
            "/login", data={"email": user.email, "password": "bad-password", "csrf_token": token}
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [422] * 10
    assert codes[-1] == 429


def test_english_is_one_click_away(client: TestClient, db_session: Session) -> None:
    assert "Đăng nhập" in client.get("/login").text
    client.get("/lang/en?next=/login")
    page = client.get("/login").text
    assert "Sign in" in page
    assert 'lang="en"' in page
