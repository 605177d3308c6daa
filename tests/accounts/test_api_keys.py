"""API keys: created by the enterprise admin, shown once, stored hashed, revocable."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role
from txng.models import ApiKey


def test_key_is_shown_once_stored_hashed_and_revocable(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    db_session.commit()
    created = client.post("/api/v1/api-keys", json={"name": "ERP"}, headers=f.bearer(ent.key))
    # API keys act as enterprise staff: only the organisation's admin manages keys.
    assert created.status_code == 404

    f.login(client, ent.admin.email)
    token = f.csrf_of(client, "/account/api-keys")
    page = client.post("/account/api-keys", data={"name": "Phần mềm kho", "csrf_token": token})
    assert page.status_code == 200
    key = page.text.split('id="new-key">')[1].split("<")[0]
    assert key.startswith("txng_")
    assert client.get("/api/v1/me", headers=f.bearer(key)).json()["organisation_id"] == ent.org.id
    rows = db_session.scalars(select(ApiKey).where(ApiKey.name == "Phần mềm kho")).all()
    assert len(rows) == 1
    assert key not in (rows[0].key_hash, rows[0].prefix)
    assert key not in client.get("/account/api-keys").text

    client.post(f"/account/api-keys/{rows[0].id}/revoke", data={"csrf_token": token})
    revoked = client.get("/api/v1/me", headers=f.bearer(key))
    assert revoked.status_code == 401
    assert revoked.headers["content-type"] == "application/problem+json"
    assert revoked.json()["status"] == 401


def test_enterprise_admin_cannot_revoke_another_organisations_key(
    client: TestClient, db_session: Session
) -> None:
    a = f.enterprise(db_session, name="HTX A")
    b = f.enterprise(db_session, name="HTX B")
    db_session.commit()
    b_key = db_session.scalars(select(ApiKey).where(ApiKey.organisation_id == b.org.id)).one()
    f.login(client, a.admin.email)
    token = f.csrf_of(client, "/account/api-keys")
    response = client.post(f"/account/api-keys/{b_key.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=f.bearer(b.key)).status_code == 200


def test_garbage_bearer_tokens_get_401(client: TestClient, db_session: Session) -> None:
    for header in ("Bearer nonsense", "Bearer txng_000000000000_x", "Bearer "):
        response = client.get("/api/v1/products", headers={"Authorization": header})
        assert response.status_code == 401
    assert client.get("/api/v1/products").status_code == 401
    staff = f.user(db_session, role=Role.INSPECTOR)
    db_session.commit()
    f.login(client, staff.email)
    assert client.get("/api/v1/products").status_code == 200


def test_cookie_calls_need_the_csrf_header_whatever_other_authorization_is_sent(
    client: TestClient, db_session: Session
) -> None:
    admin = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    f.login(client, admin.email)
    body = {
        "code": "rau-an-toan",
        "name_vi": "Rau an toàn",
        "name_en": "Safe vegetables",
        "sector": "agriculture",
    }
    sneaky = client.post("/api/v1/categories", json=body, headers={"Authorization": "Basic eDp5"})
    assert sneaky.status_code == 403
    ok = client.post(
        "/api/v1/categories", json=body, headers={"X-CSRF-Token": client.cookies["txng_csrf"]}
    )
    assert ok.status_code == 201
