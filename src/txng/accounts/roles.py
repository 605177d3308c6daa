"""Roles and the scope each gives: what a caller may see and change.

Every repository query takes a ``Principal``; the scope rules live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from txng.errors import N_


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    PROVINCIAL_ADMIN = "provincial_admin"  # Sở KH&CN / Chi cục TCĐLCL, the standing body
    SECTOR_REVIEWER = "sector_reviewer"  # Sở NN&MT, Sở Công Thương, Sở Y tế
    COMMUNE_OFFICER = "commune_officer"  # UBND cấp xã
    INSPECTOR = "inspector"
    ENTERPRISE_ADMIN = "enterprise_admin"
    ENTERPRISE_STAFF = "enterprise_staff"


class Sector(StrEnum):
    AGRICULTURE = "agriculture"
    INDUSTRY_TRADE = "industry_trade"
    HEALTH = "health"


ROLE_LABELS = {
    Role.SYSTEM_ADMIN: N_("System administrator"),
    Role.PROVINCIAL_ADMIN: N_("Provincial administrator"),
    Role.SECTOR_REVIEWER: N_("Sector reviewer"),
    Role.COMMUNE_OFFICER: N_("Commune officer"),
    Role.INSPECTOR: N_("Inspector"),
    Role.ENTERPRISE_ADMIN: N_("Enterprise administrator"),
    Role.ENTERPRISE_STAFF: N_("Enterprise staff"),
}

SECTOR_LABELS = {
    Sector.AGRICULTURE: N_("Agriculture and Environment"),
    Sector.INDUSTRY_TRADE: N_("Industry and Trade"),
    Sector.HEALTH: N_("Health"),
}

AUTHORITY_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.PROVINCIAL_ADMIN, Role.INSPECTOR})
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_STAFF})
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.PROVINCIAL_ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an organisation's API key."""

    role: Role
    label: str
    user_id: int | None = None
    api_key_id: int | None = None
    organisation_id: int | None = None
    sector: Sector | None = None
    communes: frozenset[str] = field(default_factory=frozenset)
    ip_address: str | None = None  # where the request came from, for the audit log

    @property
    def sees_everything(self) -> bool:
        return self.role in AUTHORITY_ROLES

    @property
    def is_enterprise(self) -> bool:
        return self.role in ENTERPRISE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    def may_write_organisation(self, organisation_id: int) -> bool:
        """Enterprise users write their own organisation's data; admins write any."""
        if self.is_admin:
            return True
        return self.is_enterprise and self.organisation_id == organisation_id

    def may_manage_organisation(self, organisation_id: int) -> bool:
        """Profile and API keys: the organisation's admin, or a provincial admin."""
        if self.is_admin:
            return True
        return self.role == Role.ENTERPRISE_ADMIN and self.organisation_id == organisation_id
