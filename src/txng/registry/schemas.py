"""API shapes of the registry. Domain checks (GS1 keys, tax code, communes) live in the service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from txng.accounts.roles import Sector


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"
    COOPERATIVE = "cooperative"
    HOUSEHOLD_BUSINESS = "household_business"
    OTHER = "other"


class FacilityKind(StrEnum):
    FARM = "farm"
    GROWING_AREA = "growing_area"
    POND = "pond"
    BARN = "barn"
    PACKING_HOUSE = "packing_house"
    FACTORY = "factory"
    WAREHOUSE = "warehouse"
    SHOP = "shop"


class CertificationScheme(StrEnum):
    VIETGAP = "vietgap"
    GLOBALGAP = "globalgap"
    ORGANIC = "organic"
    HACCP = "haccp"
    ISO22000 = "iso22000"
    OTHER = "other"


T = TypeVar("T")

NET_CONTENT_UNITS = ("g", "kg", "mg", "ml", "l", "pcs")

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationIn(BaseModel):
    model_config = _STRICT

    kind: OrganisationKind
    name: str = Field(min_length=2, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    tax_code: str = Field(max_length=20)
    gs1_company_prefix: str | None = Field(default=None, max_length=12)
    gln: str | None = Field(default=None, max_length=20)
    sector: Sector
    province_code: str = Field(max_length=2)
    commune_code: str = Field(max_length=5)
    street_address: str = Field(default="", max_length=300)
    contact_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=30)
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=300)


class OrganisationPatch(BaseModel):
    model_config = _STRICT

    kind: OrganisationKind | None = None
    name: str | None = Field(default=None, min_length=2, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    tax_code: str | None = Field(default=None, max_length=20)
    gs1_company_prefix: str | None = Field(default=None, max_length=12)
    gln: str | None = Field(default=None, max_length=20)
    sector: Sector | None = None
    province_code: str | None = Field(default=None, max_length=2)
    commune_code: str | None = Field(default=None, max_length=5)
    street_address: str | None = Field(default=None, max_length=300)
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=300)


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: OrganisationKind
    name: str
    name_en: str | None
    tax_code: str
    gs1_company_prefix: str | None
    gln: str | None
    sector: Sector
    province_code: str
    commune_code: str
    street_address: str
    contact_name: str
    phone: str
    email: str
    website: str
    has_business_registration: bool = False
    status: str
    created_at: datetime
    updated_at: datetime


class FacilityIn(BaseModel):
    model_config = _STRICT

    kind: FacilityKind
    name: str = Field(min_length=2, max_length=300)
    gln: str | None = Field(default=None, max_length=20)
    location_code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    growing_area_code: str | None = Field(default=None, max_length=40)
    area_hectares: Decimal | None = Field(default=None, ge=0, le=1_000_000)
    province_code: str = Field(max_length=2)
    commune_code: str = Field(max_length=5)
    street_address: str = Field(default="", max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class FacilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    kind: FacilityKind
    name: str
    gln: str | None
    location_code: str
    growing_area_code: str | None
    area_hectares: Decimal | None
    province_code: str
    commune_code: str
    street_address: str
    latitude: float | None
    longitude: float | None


class CertificationIn(BaseModel):
    model_config = _STRICT

    scheme: CertificationScheme
    number: str = Field(min_length=1, max_length=100)
    issuer: str = Field(min_length=2, max_length=300)
    valid_from: date
    valid_to: date


class CertificationOut(CertificationIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    valid_now: bool = False


class ProductIn(BaseModel):
    model_config = _STRICT

    gtin: str = Field(max_length=20)
    name_vi: str = Field(min_length=2, max_length=300)
    name_en: str = Field(default="", max_length=300)
    description_vi: str = Field(default="", max_length=5000)
    description_en: str = Field(default="", max_length=5000)
    brand: str = Field(default="", max_length=200)
    category_code: str | None = Field(default=None, max_length=40)
    sector: Sector | None = None
    net_content: Decimal | None = Field(default=None, gt=0, le=1_000_000)
    net_content_unit: str | None = Field(default=None, max_length=8)
    shelf_life_days: int | None = Field(default=None, ge=1, le=36500)
    standards: list[str] = Field(default_factory=list, max_length=20)
    ocop_stars: int | None = Field(default=None, ge=3, le=5)
    geographical_indication: str = Field(default="", max_length=200)
    certifications: list[CertificationIn] = Field(default_factory=list, max_length=20)


class ProductImageOut(BaseModel):
    id: int
    url: str
    content_type: str
    size_bytes: int


class ProductOut(BaseModel):
    id: int
    organisation_id: int
    gtin: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    brand: str
    category_code: str | None
    sector: Sector
    net_content: Decimal | None
    net_content_unit: str | None
    shelf_life_days: int | None
    standards: list[str]
    ocop_stars: int | None
    geographical_indication: str
    status: str
    certifications: list[CertificationOut]
    images: list[ProductImageOut]
    created_at: datetime
    updated_at: datetime


class CategoryIn(BaseModel):
    model_config = _STRICT

    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name_vi: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    sector: Sector
    is_priority: bool = False
    is_mandatory: bool = False
    retention_months: int = Field(default=24, ge=1, le=600)


class CategoryOut(CategoryIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
