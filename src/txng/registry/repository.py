"""All SQL of the registry. Every read takes the caller's Principal and applies its scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from txng.accounts.roles import Principal, Role
from txng.models import (
    Facility,
    Organisation,
    Product,
    ProductCategory,
    ProductCertification,
    ProductImage,
    StoredFile,
)


def _search(
    q: str, *columns: ColumnElement[str] | InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """Any column contains q literally: the user's % and _ are not wildcards."""
    escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    return or_(*(column.like(like, escape="\\") for column in columns))


def organisation_scope(principal: Principal) -> ColumnElement[bool]:
    """Which organisations the caller may see."""
    if principal.sees_everything:
        return true()
    if principal.is_enterprise:
        if principal.organisation_id is None:
            return false()
        return Organisation.id == principal.organisation_id
    if principal.role == Role.SECTOR_REVIEWER and principal.sector is not None:
        has_sector_product = exists().where(
            Product.organisation_id == Organisation.id, Product.sector == principal.sector.value
        )
        return or_(Organisation.sector == principal.sector.value, has_sector_product)
    if principal.role == Role.COMMUNE_OFFICER:
        return Organisation.commune_code.in_(sorted(principal.communes))
    return false()


def product_scope(principal: Principal) -> ColumnElement[bool]:
    """Which products the caller may see (use with a join to Organisation)."""
    if principal.sees_everything:
        return true()
    if principal.is_enterprise:
        if principal.organisation_id is None:
            return false()
        return Product.organisation_id == principal.organisation_id
    if principal.role == Role.SECTOR_REVIEWER and principal.sector is not None:
        return Product.sector == principal.sector.value
    if principal.role == Role.COMMUNE_OFFICER:
        return Organisation.commune_code.in_(sorted(principal.communes))
    return false()


# organisations ---------------------------------------------------------------------------


def organisations(
    session: Session, principal: Principal, *, q: str | None, page: int, per_page: int
) -> tuple[list[Organisation], int]:
    cond = organisation_scope(principal)
    if q:
        cond = and_(cond, _search(q, func.lower(Organisation.name), Organisation.tax_code))
    total = session.scalar(select(func.count()).select_from(Organisation).where(cond)) or 0
    stmt = select(Organisation).where(cond).order_by(Organisation.name, Organisation.id)
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def organisation(session: Session, principal: Principal, org_id: int) -> Organisation | None:
    stmt = select(Organisation).where(Organisation.id == org_id, organisation_scope(principal))
    return session.scalars(stmt).first()


def organisation_by_tax_code(session: Session, tax_code: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.tax_code == tax_code)).first()


def organisation_id_by_gln(session: Session, gln: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.gln == gln))


# facilities ------------------------------------------------------------------------------


def facilities(
    session: Session, principal: Principal, *, organisation_id: int | None, page: int, per_page: int
) -> tuple[list[Facility], int]:
    cond = organisation_scope(principal)
    if organisation_id is not None:
        cond = and_(cond, Facility.organisation_id == organisation_id)
    base = select(Facility).join(Organisation, Organisation.id == Facility.organisation_id)
    total = session.scalar(select(func.count()).select_from(base.where(cond).subquery())) or 0
    stmt = base.where(cond).order_by(Facility.name, Facility.id)
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def facility(session: Session, principal: Principal, facility_id: int) -> Facility | None:
    stmt = (
        select(Facility)
        .join(Organisation, Organisation.id == Facility.organisation_id)
        .where(Facility.id == facility_id, organisation_scope(principal))
    )
    return session.scalars(stmt).first()


def facility_id_by_gln(session: Session, gln: str) -> int | None:
    return session.scalar(select(Facility.id).where(Facility.gln == gln))


def facility_location_code_taken(
    session: Session, organisation_id: int, code: str, *, exclude_id: int | None
) -> bool:
    stmt = select(Facility.id).where(
        Facility.organisation_id == organisation_id, Facility.location_code == code
    )
    if exclude_id is not None:
        stmt = stmt.where(Facility.id != exclude_id)
    return session.scalar(stmt) is not None


def count_facilities(session: Session, organisation_id: int) -> int:
    stmt = select(func.count()).where(Facility.organisation_id == organisation_id)
    return session.scalar(stmt) or 0


# categories ------------------------------------------------------------------------------


def categories(session: Session) -> list[ProductCategory]:
    stmt = select(ProductCategory).order_by(ProductCategory.sector, ProductCategory.name_vi)
    return list(session.scalars(stmt))


def category_by_code(session: Session, code: str) -> ProductCategory | None:
    return session.scalars(select(ProductCategory).where(ProductCategory.code == code)).first()


def category_by_id(session: Session, category_id: int) -> ProductCategory | None:
    return session.get(ProductCategory, category_id)


# products --------------------------------------------------------------------------------


def products(
    session: Session,
    principal: Principal,
    *,
    organisation_id: int | None,
    q: str | None,
    page: int,
    per_page: int,
) -> tuple[list[Product], int]:
    cond = product_scope(principal)
    if organisation_id is not None:
        cond = and_(cond, Product.organisation_id == organisation_id)
    if q:
        cond = and_(cond, _search(q, func.lower(Product.name_vi), Product.gtin))
    base = select(Product).join(Organisation, Organisation.id == Product.organisation_id)
    total = session.scalar(select(func.count()).select_from(base.where(cond).subquery())) or 0
    stmt = base.where(cond).order_by(Product.name_vi, Product.id)
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def product(session: Session, principal: Principal, product_id: int) -> Product | None:
    stmt = (
        select(Product)
        .join(Organisation, Organisation.id == Product.organisation_id)
        .where(Product.id == product_id, product_scope(principal))
    )
    return session.scalars(stmt).first()


def product_id_by_gtin(session: Session, gtin: str) -> int | None:
    return session.scalar(select(Product.id).where(Product.gtin == gtin))


def certifications_of(session: Session, product_ids: Sequence[int]) -> list[ProductCertification]:
    if not product_ids:
        return []
    stmt = (
        select(ProductCertification)
        .where(ProductCertification.product_id.in_(product_ids))
        .order_by(ProductCertification.product_id, ProductCertification.valid_to.desc())
    )
    return list(session.scalars(stmt))


def delete_certifications(session: Session, product_id: int) -> None:
    for cert in session.scalars(
        select(ProductCertification).where(ProductCertification.product_id == product_id)
    ):
        session.delete(cert)


def images_of(
    session: Session, product_ids: Sequence[int]
) -> list[tuple[ProductImage, StoredFile]]:
    if not product_ids:
        return []
    stmt = (
        select(ProductImage, StoredFile)
        .join(StoredFile, StoredFile.id == ProductImage.file_id)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def image_with_file(
    session: Session, product_id: int, image_id: int
) -> tuple[ProductImage, StoredFile] | None:
    stmt = (
        select(ProductImage, StoredFile)
        .join(StoredFile, StoredFile.id == ProductImage.file_id)
        .where(ProductImage.id == image_id, ProductImage.product_id == product_id)
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else None


def next_image_position(session: Session, product_id: int) -> int:
    stmt = select(func.max(ProductImage.position)).where(ProductImage.product_id == product_id)
    current = session.scalar(stmt)
    return 0 if current is None else current + 1


def stored_file(session: Session, file_id: int) -> StoredFile | None:
    return session.get(StoredFile, file_id)


def add(session: Session, obj: object) -> None:
    session.add(obj)
