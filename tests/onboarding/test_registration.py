"""Self-registration end to end with the file outbox: register, confirm, approve or reject."""

from __future__ import annotations

import email
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import factories
from txng.accounts.roles import Role
from txng.config import Settings
from txng.errors import ValidationFailed
from txng.kit import i18n
from txng.models import AuditEntry, Organisation, Registration, StoredFile, User
from txng.models.base import utcnow
from txng.onboarding import service
from txng.onboarding.schemas import RegistrationIn
from txng.registry import service as registry_service
from txng.registry.schemas import OrganisationIn
from txng.web.ratelimit import RateLimiter

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def outbox(settings: Settings) -> list[EmailMessage]:
    directory = settings.data_dir / "outbox"
    return [_read(p) for p in sorted(directory.glob("*.eml"))] if directory.exists() else []


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def link(message: EmailMessage, path: str) -> str:
    match = re.search(rf"http://testserver({re.escape(path)}\S+)", body(message))
    assert match, body(message)
    return match.group(1)


def form(**overrides: str) -> dict[str, str]:
    values = {
        "kind": "cooperative",
        "name": "HTX Nông sản Lục Ngạn",
        "tax_code": factories.tax_code(),
        "sector": "agriculture",
        "commune_code": factories.LUC_NGAN,
        "street_address": "Thôn Phì Điền",
        "full_name": "Trần Thị Bích",
        "email": "bich@htx-lucngan.vn",
        "phone": "0912 345 678",
        "password": "vai-thieu-2026!",
        "confirm_password": "vai-thieu-2026!",
    }
    values.update(overrides)
    return values


def register(
    client: TestClient, data: dict[str, str], file: bytes = PDF, filename: str = "dkkd.pdf"
) -> Any:
    token = factories.csrf_of(client, "/register")
    return client.post(
        "/register",
        data={**data, "csrf_token": token},
        files={"business_registration": (filename, file, "application/pdf")},
        follow_redirects=False,
    )


def registered_and_verified(client: TestClient, settings: Settings, **overrides: str) -> int:
    assert register(client, form(**overrides)).status_code == 303
    assert client.get(link(outbox(settings)[-1], "/register/verify/")).status_code == 200
    return int(link(outbox(settings)[-1], "/register/status/").split("/")[-1].split(".")[0])


def reviewer(db_session: Session, role: Role, communes: tuple[str, ...] = ()) -> User:
    user = factories.user(db_session, role=role, communes=communes)
    db_session.commit()
    return user


def post(client: TestClient, path: str, data: dict[str, str] | None = None) -> Any:
    token = factories.csrf_of(client, "/register")
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def counts(db_session: Session) -> tuple[int, ...]:
    db_session.expire_all()
    return tuple(
        db_session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Organisation, User, Registration, StoredFile)
    )


def test_register_verify_approve_sign_in(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    response = register(client, form())
    assert response.status_code == 303
    assert response.headers["location"] == "/register/sent"
    [verify_mail] = outbox(settings)
    assert verify_mail["To"] == "bich@htx-lucngan.vn"
    assert verify_mail["Content-Language"] == "vi"
    assert "Trần Thị Bích" in body(verify_mail)

    org = db_session.scalars(select(Organisation)).one()
    applicant = db_session.scalars(select(User).where(User.email == "bich@htx-lucngan.vn")).one()
    assert (org.status, applicant.is_active, applicant.role) == (
        "pending",
        False,
        "enterprise_admin",
    )
    assert org.business_registration_file_id is not None
    reg = db_session.scalars(select(Registration)).one()
    assert reg.state == "pending_verification"
    assert reg.token_hash is not None
    verify_path = link(verify_mail, "/register/verify/")
    assert reg.token_hash not in verify_path  # only the hash is stored, the link has the token

    # Not yet: the account cannot sign in before approval.
    token = factories.csrf_of(client, "/login")
    login = {"email": "bich@htx-lucngan.vn", "password": "vai-thieu-2026!", "csrf_token": token}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 422

    admin = reviewer(db_session, Role.PROVINCIAL_ADMIN)
    factories.login(client, admin.email)
    assert "HTX Nông sản Lục Ngạn" not in client.get("/admin/registrations").text
    assert client.get(f"/admin/registrations/{reg.id}").status_code == 404  # unconfirmed

    assert client.get(verify_path).status_code == 200
    queue = client.get("/admin/registrations")
    assert "HTX Nông sản Lục Ngạn" in queue.text
    assert client.get(f"/admin/registrations/{reg.id}").status_code == 200

    response = post(client, f"/admin/registrations/{reg.id}/approve")
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Registration, reg.id).state == "approved"  # type: ignore[union-attr]
    assert db_session.get(Organisation, org.id).status == "active"  # type: ignore[union-attr]
    assert post(client, f"/admin/registrations/{reg.id}/approve").status_code == 409
    assert "HTX Nông sản Lục Ngạn" not in client.get("/admin/registrations").text
    assert "HTX Nông sản Lục Ngạn" in client.get("/admin/registrations?state=approved").text

    approved_mail = outbox(settings)[-1]
    assert approved_mail["To"] == "bich@htx-lucngan.vn"
    assert "http://testserver/login" in body(approved_mail)

    factories.login(client, "bich@htx-lucngan.vn", "vai-thieu-2026!")
    assert client.get("/my/organisation").status_code == 200

    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"registration.submitted", "registration.verified", "registration.approved"} <= actions


def test_rejection_reason_reaches_the_applicant(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    reg_id = registered_and_verified(client, settings)
    status_path = link(outbox(settings)[-1], "/register/status/")
    officer = reviewer(db_session, Role.COMMUNE_OFFICER, communes=(factories.LUC_NGAN,))
    factories.login(client, officer.email)

    response = post(client, f"/admin/registrations/{reg_id}/reject", {"reason": "  "})
    assert response.status_code == 422
    assert 'id="e-reason"' in response.text
    reason = "Giấy chứng nhận đăng ký kinh doanh không đọc được"
    response = post(client, f"/admin/registrations/{reg_id}/reject", {"reason": reason})
    assert response.status_code == 303

    rejected_mail = outbox(settings)[-1]
    assert reason in body(rejected_mail)
    assert link(rejected_mail, "/register/status/") == status_path
    client.cookies.clear()
    assert reason in client.get(status_path).text

    token = factories.csrf_of(client, "/register/status")
    creds = {"email": "bich@htx-lucngan.vn", "password": "vai-thieu-2026!", "csrf_token": token}
    assert reason in client.post("/register/status", data=creds).text
    wrong = client.post("/register/status", data={**creds, "password": "wrong-password"})
    assert wrong.status_code == 422
    assert reason not in wrong.text
    assert client.get(status_path.replace(".", ".x", 1)).status_code == 404

    db_session.expire_all()
    org = db_session.scalars(select(Organisation)).one()
    applicant = db_session.scalars(select(User).where(User.organisation_id == org.id)).one()
    assert (org.status, applicant.is_active) == ("rejected", False)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.rejected")
    ).one()
    assert entry.actor_user_id == officer.id
    assert entry.after is not None
    assert entry.after["reason"] == reason


def test_queue_is_scoped_to_the_officers_communes(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    reg_id = registered_and_verified(client, settings)
    elsewhere = reviewer(db_session, Role.COMMUNE_OFFICER, communes=(factories.KINH_BAC,))
    enterprise = factories.enterprise(db_session)
    db_session.commit()

    factories.login(client, elsewhere.email)
    assert "HTX Nông sản Lục Ngạn" not in client.get("/admin/registrations").text
    assert client.get(f"/admin/registrations/{reg_id}").status_code == 404
    assert post(client, f"/admin/registrations/{reg_id}/approve").status_code == 404
    reject = post(client, f"/admin/registrations/{reg_id}/reject", {"reason": "x"})
    assert reject.status_code == 404

    factories.login(client, enterprise.admin.email)
    assert client.get("/admin/registrations").status_code == 404
    assert client.get(f"/admin/registrations/{reg_id}").status_code == 404

    db_session.expire_all()
    assert db_session.get(Registration, reg_id).state == "pending_approval"  # type: ignore[union-attr]


def test_expired_reused_and_forged_links_are_refused(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    assert register(client, form()).status_code == 303
    verify_path = link(outbox(settings)[-1], "/register/verify/")
    reg = db_session.scalars(select(Registration)).one()
    reg.token_expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    assert client.get(verify_path).status_code == 410

    reg.token_expires_at = utcnow() + timedelta(hours=1)
    db_session.commit()
    assert client.get(verify_path[:-3] + "abc").status_code == 404  # signature broken
    assert client.get(verify_path).status_code == 200
    assert client.get(verify_path).status_code == 404  # single use
    db_session.expire_all()
    assert db_session.get(Registration, reg.id).token_hash is None  # type: ignore[union-attr]


def test_bad_inputs_are_shown_next_to_the_field_and_nothing_is_stored(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    existing = factories.user(db_session, role=Role.INSPECTOR, email="taken@example.vn")
    db_session.commit()
    before = counts(db_session)
    good = form()["tax_code"]
    bad_check_digit = good[:9] + str((int(good[9]) + 1) % 10)
    response = register(
        client,
        form(tax_code=bad_check_digit, email=existing.email, confirm_password="different-one"),
    )
    assert response.status_code == 422
    html = response.text
    check_digit = i18n.gettext("vi", "This tax code fails its check digit")
    assert re.search(rf'id="e-tax_code"[^>]*>{re.escape(check_digit)}<', html)
    assert 'id="e-email"' in html
    assert 'id="e-confirm_password"' in html
    assert 'value="HTX Nông sản Lục Ngạn"' in html  # the form keeps what was typed
    assert "vai-thieu-2026!" not in html  # but never the password

    response = register(client, form(), file=b"just some text", filename="dkkd.pdf")
    assert response.status_code == 422
    assert 'id="e-business_registration"' in response.text

    assert counts(db_session) == before
    assert outbox(settings) == []
    assert not (settings.media_dir).exists() or not any(settings.media_dir.rglob("*.pdf"))


def test_duplicate_tax_code_is_refused(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    org = factories.organisation(db_session)
    db_session.commit()
    before = counts(db_session)
    response = register(client, form(tax_code=org.tax_code))
    assert response.status_code == 422
    assert 'id="e-tax_code"' in response.text
    assert counts(db_session) == before


def test_register_and_verify_are_rate_limited(app: FastAPI, client: TestClient) -> None:
    app.state.onboarding_limiter = RateLimiter(1, 3600.0)
    assert register(client, form(email="a@example.vn")).status_code == 303
    assert register(client, form(email="b@example.vn")).status_code == 429
    assert client.get("/register/verify/abc.def").status_code == 404
    assert client.get("/register/verify/abc.def").status_code == 429


def test_a_new_link_replaces_an_expired_one(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    assert register(client, form()).status_code == 303
    old_path = link(outbox(settings)[-1], "/register/verify/")
    status_path = link(outbox(settings)[-1], "/register/status/")
    reg = db_session.scalars(select(Registration)).one()
    reg.token_expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    assert client.get(old_path).status_code == 410

    page = client.get(status_path)
    assert f'action="{status_path}/resend"' in page.text
    response = post(client, f"{status_path}/resend")
    assert response.status_code == 303
    new_path = link(outbox(settings)[-1], "/register/verify/")
    assert new_path != old_path
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200
    assert post(client, f"{status_path}/resend").status_code == 409
    assert post(client, "/register/status/1.forged/resend").status_code == 404


# defects: a lost race on a duplicate, and a rejected applicant applying again -----------------


def _post_registration(client: TestClient, data: dict[str, str], token: str) -> Any:
    return client.post(
        "/register",
        data={**data, "csrf_token": token},
        files={"business_registration": ("dkkd.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )


def test_two_applicants_at_once_with_one_tax_code_and_email(
    app: FastAPI, settings: Settings, db_session: Session
) -> None:
    """Both pass the duplicate check together; the loser gets the field errors, not a 500."""
    data = form()
    barrier = threading.Barrier(2)
    responses: list[Any] = []
    failures: list[BaseException] = []

    def apply(client: TestClient) -> None:
        try:
            token = factories.csrf_of(client, "/register")
            barrier.wait(timeout=10)
            responses.append(_post_registration(client, data, token))
        except BaseException as exc:  # an IntegrityError reaching the client is the defect
            failures.append(exc)

    with (
        TestClient(app, base_url="http://testserver") as first,
        TestClient(app, base_url="http://testserver") as second,
    ):
        threads = [threading.Thread(target=apply, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    duplicate_tax_code = i18n.gettext(
        "vi", "An organisation with this tax code is already registered"
    )
    assert re.search(rf'id="e-tax_code"[^>]*>{re.escape(duplicate_tax_code)}<', loser.text)
    assert 'id="e-email"' in loser.text
    assert counts(db_session)[:3] == (1, 1, 1)
    assert len(outbox(settings)) == 1


def _config(settings: Settings) -> service.OnboardingConfig:
    return service.OnboardingConfig.from_settings(settings, base_url="http://testserver")


def _rival_commits(backend: Any, table: str, data: dict[str, str]) -> Callable[[], None]:
    """Right before the applicant's INSERT into ``table``, another applicant's rows commit."""
    fired: list[bool] = []

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if fired or not statement.startswith(f"INSERT INTO {table} "):
            return
        fired.append(True)
        with backend.sessionmaker() as rival:
            org = registry_service.register_organisation(
                rival,
                actor=None,
                data=OrganisationIn.model_validate(
                    {
                        "kind": "cooperative",
                        "name": "HTX Đối thủ",
                        # The applicant's own row already holds the tax code at its second
                        # insert: the rival only takes the e-mail address then.
                        "tax_code": data["tax_code"]
                        if table == "organisation"
                        else factories.tax_code(),
                        "sector": "agriculture",
                        "province_code": "24",
                        "commune_code": factories.LUC_NGAN,
                    }
                ),
            )
            factories.user(
                rival, role=Role.ENTERPRISE_ADMIN, organisation_id=org.id, email=data["email"]
            )
            rival.commit()

    event.listen(backend.engine, "before_cursor_execute", before_execute)
    return lambda: event.remove(backend.engine, "before_cursor_execute", before_execute)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("table", ["organisation", "user_account"])
def test_losing_the_race_between_check_and_insert_is_a_field_error(
    backend: Any, settings: Settings, db_session: Session, table: str
) -> None:
    """The rival commits after the duplicate check has passed, before the applicant's insert."""
    # On SQLite the write lock is taken before the check: no rival can slip in between.
    data = form()
    stop = _rival_commits(backend, table, data)
    try:
        with pytest.raises(ValidationFailed) as caught:
            service.register(
                db_session,
                config=_config(settings),
                data=RegistrationIn.model_validate(data),
                upload=PDF,
                filename="dkkd.pdf",
                locale="vi",
                ip_address=None,
            )
    finally:
        stop()
    db_session.rollback()  # what the page does on a field error
    fields = {(e.field, e.code) for e in caught.value.errors}
    expected = {("/email", "duplicate")}
    if table == "organisation":
        expected.add(("/tax_code", "duplicate"))
    assert fields == expected
    assert counts(db_session)[:3] == (1, 1, 0)  # the rival's rows only


def test_a_rejected_applicant_applies_again(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    data = form()
    assert register(client, data).status_code == 303
    assert client.get(link(outbox(settings)[-1], "/register/verify/")).status_code == 200
    first_status = link(outbox(settings)[-1], "/register/status/")
    first_id = db_session.scalars(select(Registration.id)).one()

    # Pending: a second application is a duplicate.
    again = register(client, data)
    assert again.status_code == 422
    assert 'id="e-tax_code"' in again.text
    assert 'id="e-email"' in again.text

    admin = reviewer(db_session, Role.PROVINCIAL_ADMIN)
    factories.login(client, admin.email)
    reason = "Giấy chứng nhận đăng ký kinh doanh không đọc được"
    rejected = post(client, f"/admin/registrations/{first_id}/reject", {"reason": reason})
    assert rejected.status_code == 303
    client.cookies.clear()
    assert reason in client.get(first_status).text

    # A new application with a field error leaves the rejected one as it was.
    bad = register(client, {**data, "confirm_password": "something-else"})
    assert bad.status_code == 422
    assert reason in client.get(first_status).text

    fixed = {**data, "name": "HTX Nông sản Lục Ngạn (hồ sơ bổ sung)"}
    assert register(client, fixed).status_code == 303
    verify_mail = outbox(settings)[-1]
    assert verify_mail["To"] == data["email"]
    assert client.get(link(verify_mail, "/register/verify/")).status_code == 200
    db_session.expire_all()
    reg, org = db_session.execute(select(Registration, Organisation).join(Organisation)).one()
    assert (reg.state, org.name, org.tax_code) == (
        "pending_approval",
        fixed["name"],
        data["tax_code"],
    )
    assert reg.id != first_id
    assert client.get(first_status).status_code == 404  # replaced

    factories.login(client, admin.email)
    assert fixed["name"] in client.get("/admin/registrations").text
    assert post(client, f"/admin/registrations/{reg.id}/approve").status_code == 303
    # Approved: the tax code and the e-mail address are taken for good.
    client.cookies.clear()
    assert register(client, data).status_code == 422
    factories.login(client, data["email"], data["password"])
    assert client.get("/my/organisation").status_code == 200

    # The first rejection stays in the audit log, with its reason and what replaced it.
    rejection = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.rejected")
    ).one()
    assert (rejection.entity_id, rejection.actor_user_id) == (str(first_id), admin.id)
    assert rejection.after is not None
    assert rejection.after["reason"] == reason
    replaced = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.replaced")
    ).one()
    assert replaced.entity_id == str(first_id)
    assert replaced.before is not None
    assert (replaced.before["state"], replaced.before["reason"]) == ("rejected", reason)
    assert replaced.after == {"replaced_by_registration_id": reg.id}
