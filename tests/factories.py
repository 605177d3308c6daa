"""Typed factory functions: build a world through the services, as a real user would."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role, Sector
from txng.kit.gs1 import with_check_digit
from txng.kit.taxcode import make_tax_code
from txng.models import Organisation, Product, User
from txng.registry import service as registry_service
from txng.registry.schemas import OrganisationIn, ProductIn

PASSWORD = "correct-horse-battery"
ADMIN = Principal(role=Role.PROVINCIAL_ADMIN, label="test admin")
LUC_NGAN = "07582"
KINH_BAC = "09187"
_seq = itertools.count(1)


def tax_code() -> str:
    while True:
        stem = f"24{next(_seq):07d}"
        try:
            return make_tax_code(stem)
        except ValueError:
            continue


def gtin13(company: str = "8930001") -> str:
    return with_check_digit(f"{company}{next(_seq) % 100000:05d}")


def organisation(
    session: Session,
    *,
    name: str = "HTX Vải thiều",
    sector: Sector = Sector.AGRICULTURE,
    commune: str = LUC_NGAN,
    kind: str = "cooperative",
) -> Organisation:
    return registry_service.register_organisation(
        session,
        actor=ADMIN,
        data=OrganisationIn.model_validate(
            {
                "kind": kind,
                "name": name,
                "tax_code": tax_code(),
                "sector": sector,
                "province_code": "24",
                "commune_code": commune,
            }
        ),
    )


def user(
    session: Session,
    *,
    role: Role,
    organisation_id: int | None = None,
    sector: Sector | None = None,
    communes: tuple[str, ...] = (),
    email: str | None = None,
) -> User:
    return accounts_service.create_user(
        session,
        actor=None,
        email=email or f"user{next(_seq)}@example.vn",
        full_name="Nguyễn Văn An",
        password=PASSWORD,
        role=role,
        organisation_id=organisation_id,
        sector=sector,
        communes=communes,
    )


def product(
    session: Session,
    *,
    organisation_id: int,
    name: str = "Vải thiều Lục Ngạn",
    sector: Sector = Sector.AGRICULTURE,
) -> Product:
    return registry_service.create_product(
        session,
        actor=ADMIN,
        organisation_id=organisation_id,
        data=ProductIn.model_validate({"gtin": gtin13(), "name_vi": name, "sector": sector}),
    )


def api_key(session: Session, organisation_id: int) -> str:
    _, full = accounts_service.create_api_key(
        session, actor=None, organisation_id=organisation_id, name="test"
    )
    return full


@dataclass
class Enterprise:
    org: Organisation
    admin: User
    key: str


def enterprise(session: Session, name: str = "HTX Vải thiều", **kwargs: object) -> Enterprise:
    org = organisation(session, name=name, **kwargs)  # type: ignore[arg-type]
    admin = user(session, role=Role.ENTERPRISE_ADMIN, organisation_id=org.id)
    return Enterprise(org, admin, api_key(session, org.id))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def csrf_of(client: TestClient, path: str = "/login") -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
