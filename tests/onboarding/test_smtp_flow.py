"""The registration e-mails go out through SMTP when a host is configured."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories
from txng.accounts.roles import Role
from txng.config import Settings
from txng.kit import i18n
from txng.models import Registration

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def settings(settings: Settings, smtp_server: tuple[Any, int]) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server[1], "smtp_starttls": False}
    )


def _text(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def test_registration_mails_go_through_smtp(
    client: TestClient, smtp_server: tuple[Any, int], db_session: Session, settings: Settings
) -> None:
    inbox, _ = smtp_server
    admin = factories.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    data = {
        "kind": "enterprise",
        "name": "Công ty TNHH Gốm Phù Lãng",
        "tax_code": factories.tax_code(),
        "sector": "industry_trade",
        "commune_code": factories.KINH_BAC,
        "street_address": "Phù Lãng",
        "full_name": "Lê Văn Cường",
        "email": "cuong@gomphulang.vn",
        "phone": "0987654321",
        "password": "gom-phu-lang-2026",
        "confirm_password": "gom-phu-lang-2026",
        "csrf_token": factories.csrf_of(client, "/register"),
    }
    files = {"business_registration": ("dkkd.pdf", PDF, "application/pdf")}
    assert (
        client.post("/register", data=data, files=files, follow_redirects=False).status_code == 303
    )
    [verify_mail] = inbox.messages()
    assert verify_mail["To"] == "cuong@gomphulang.vn"
    assert verify_mail["Subject"] == i18n.gettext(
        "vi",
        "Confirm your registration with the %(province)s traceability system",
        {"province": settings.province_name},
    )
    assert i18n.gettext("vi", "Dear %(name)s,", {"name": "Lê Văn Cường"}) in _text(verify_mail)
    match = re.search(r"http://testserver(/register/verify/\S+)", _text(verify_mail))
    assert match
    assert client.get(match.group(1)).status_code == 200
    assert not (settings.data_dir / "outbox").exists()

    reg_id = db_session.scalars(select(Registration.id)).one()
    factories.login(client, admin.email)
    response = client.post(
        f"/admin/registrations/{reg_id}/reject",
        data={"reason": "Thiếu giấy phép", "csrf_token": factories.csrf_of(client, "/register")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    rejected = inbox.messages()[-1]
    assert rejected["To"] == "cuong@gomphulang.vn"
    assert "Thiếu giấy phép" in _text(rejected)
