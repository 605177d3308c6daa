"""The registry (C1): organisations, facilities, product categories, products and their files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, JSONType, TimestampMixin, UTCDateTime, utcnow


class StoredFile(Base):
    """An uploaded file kept under ``data_dir/media``; the row records what was checked."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # No foreign key: files are written before the organisation row may exist (registration).
    organisation_id: Mapped[int | None] = mapped_column(BigIntPK, index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # product_image | business_registration
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Organisation(TimestampMixin, Base):
    """A producer or trader: enterprise, cooperative (HTX), household business or other."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)  # mã số thuế
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    sector: Mapped[str] = mapped_column(String(32))
    province_code: Mapped[str] = mapped_column(String(2))
    commune_code: Mapped[str] = mapped_column(String(5), index=True)
    street_address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    business_registration_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="active")


class Facility(TimestampMixin, Base):
    """A place of an organisation: farm, growing area (mã số vùng trồng), pond, barn, …"""

    __tablename__ = "facility"
    __table_args__ = (
        UniqueConstraint("organisation_id", "location_code", name="uq_facility_org_location_code"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    # Location trace code (TCVN 13274) for places without a GLN of their own.
    location_code: Mapped[str] = mapped_column(String(40))
    growing_area_code: Mapped[str | None] = mapped_column(String(40))  # mã số vùng trồng
    area_hectares: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    province_code: Mapped[str] = mapped_column(String(2))
    commune_code: Mapped[str] = mapped_column(String(5))
    street_address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()


class ProductCategory(Base):
    """The province's catalog: priority (ưu tiên) and mandatory (bắt buộc) product categories."""

    __tablename__ = "product_category"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))  # the owning sector department
    is_priority: Mapped[bool] = mapped_column(default=False)
    is_mandatory: Mapped[bool] = mapped_column(default=False)
    # Circular 02/2024: retention is set per product type by the line ministries.
    retention_months: Mapped[int] = mapped_column(Integer, default=24)


class Product(TimestampMixin, Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 3 AND 5", name="ocop_stars"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    gtin: Mapped[str] = mapped_column(String(14), unique=True)  # stored as GTIN-14
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_category.id", ondelete="RESTRICT"), index=True
    )
    sector: Mapped[str] = mapped_column(String(32), index=True)
    net_content: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    net_content_unit: Mapped[str | None] = mapped_column(String(8))
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    standards: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ocop_stars: Mapped[int | None] = mapped_column(Integer)
    geographical_indication: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # How many sold units one stamp covers: a lot carries at most quantity / units_per_stamp stamps.
    units_per_stamp: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ProductCertification(Base):
    __tablename__ = "product_certification"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(32))  # vietgap | globalgap | organic | haccp | …
    number: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class ProductImage(Base):
    __tablename__ = "product_image"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
