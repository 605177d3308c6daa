"""The registration form's shape; tax code, commune and duplicates are checked by the service."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from txng.accounts.roles import Sector
from txng.errors import N_
from txng.registry.schemas import OrganisationKind


class RegistrationState(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: OrganisationKind
    name: str = Field(min_length=2, max_length=300)
    tax_code: str = Field(min_length=1, max_length=20)
    sector: Sector
    commune_code: str = Field(min_length=1, max_length=5)
    street_address: str = Field(min_length=2, max_length=300)
    full_name: str = Field(min_length=2, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(min_length=6, max_length=30, pattern=r"^\+?[0-9 .()-]+$")
    password: str = Field(max_length=200)
    confirm_password: str = Field(max_length=200)


STATE_LABELS = {
    RegistrationState.PENDING_VERIFICATION.value: N_("Awaiting e-mail confirmation"),
    RegistrationState.PENDING_APPROVAL.value: N_("Awaiting approval"),
    RegistrationState.APPROVED.value: N_("Approved"),
    RegistrationState.REJECTED.value: N_("Rejected"),
}
