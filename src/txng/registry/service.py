"""The registry (C1): organisations, facilities, products and the province's category catalog."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Sector
from txng.audit import service as audit
from txng.errors import N_, ErrorCollector, Forbidden, NotFound, field_error
from txng.kit import files
from txng.models import (
    Facility,
    Organisation,
    Product,
    ProductCategory,
    ProductCertification,
    ProductImage,
    StoredFile,
)
from txng.registry import repository, validation
from txng.registry.schemas import (
    NET_CONTENT_UNITS,
    CategoryIn,
    CertificationOut,
    FacilityIn,
    OrganisationIn,
    OrganisationPatch,
    ProductImageOut,
    ProductIn,
    ProductOut,
)

ORGANISATION_FIELDS = (
    "kind", "name", "name_en", "tax_code", "gs1_company_prefix", "gln", "sector",
    "province_code", "commune_code", "street_address", "contact_name", "phone", "email",
    "website",
)  # fmt: skip
FACILITY_FIELDS = (
    "kind", "name", "gln", "location_code", "growing_area_code", "area_hectares",
    "province_code", "commune_code", "street_address", "latitude", "longitude",
)  # fmt: skip
PRODUCT_FIELDS = (
    "gtin", "name_vi", "name_en", "description_vi", "description_en", "brand", "category_id",
    "sector", "net_content", "net_content_unit", "shelf_life_days", "standards", "ocop_stars",
    "geographical_indication",
)  # fmt: skip


# organisations ---------------------------------------------------------------------------


def _check_organisation(
    session: Session, values: dict[str, Any], *, existing_id: int | None
) -> dict[str, Any]:
    errors = ErrorCollector()
    values["tax_code"] = validation.tax_code(errors, values["tax_code"])
    values["gln"] = validation.gln(errors, values.get("gln"))
    values["gs1_company_prefix"] = validation.company_prefix(
        errors, values.get("gs1_company_prefix")
    )
    validation.address(errors, values["province_code"], values["commune_code"])
    other = repository.organisation_by_tax_code(session, values["tax_code"])
    if other is not None and other.id != existing_id:
        errors.add(
            "/tax_code", N_("An organisation with this tax code is already registered"), "duplicate"
        )
    if values["gln"]:
        other_id = repository.organisation_id_by_gln(session, values["gln"])
        if other_id is not None and other_id != existing_id:
            errors.add("/gln", N_("This GLN is already registered"), "duplicate")
        prefix = values.get("gs1_company_prefix")
        if prefix and not values["gln"].startswith(prefix):
            errors.add("/gln", N_("The GLN must start with the GS1 company prefix"))
    errors.raise_if_any()
    return values


def register_organisation(
    session: Session, *, actor: Principal | None, data: OrganisationIn
) -> Organisation:
    """Register an organisation (provincial admins; self-registration comes with review)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden()
    values = _check_organisation(session, data.model_dump(), existing_id=None)
    org = Organisation(**values)
    repository.add(session, org)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="organisation.registered",
        entity_type="organisation",
        entity_id=org.id,
        organisation_id=org.id,
        after=audit.snapshot(org, ORGANISATION_FIELDS),
    )
    return org


def get_organisation(session: Session, *, actor: Principal, organisation_id: int) -> Organisation:
    org = repository.organisation(session, actor, organisation_id)
    if org is None:
        raise NotFound()
    return org


def list_organisations(
    session: Session, *, actor: Principal, q: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[Organisation], int]:
    return repository.organisations(session, actor, q=q, page=page, per_page=per_page)


def update_organisation(
    session: Session, *, actor: Principal, organisation_id: int, patch: OrganisationPatch
) -> Organisation:
    """Change an organisation's profile; the tax code is changed by provincial admins only."""
    org = get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not actor.may_manage_organisation(org.id):
        raise NotFound() if not actor.sees_everything else Forbidden()
    changes = patch.model_dump(exclude_unset=True)
    if "tax_code" in changes and changes["tax_code"] != org.tax_code and not actor.is_admin:
        raise field_error("/tax_code", N_("Only the provincial administrator changes a tax code"))
    before = audit.snapshot(org, ORGANISATION_FIELDS)
    values = _check_organisation(session, {**before, **changes}, existing_id=org.id)
    for name in ORGANISATION_FIELDS:
        setattr(org, name, values[name])
    after = audit.snapshot(org, ORGANISATION_FIELDS)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="organisation.updated",
            entity_type="organisation",
            entity_id=org.id,
            organisation_id=org.id,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return org


def store_file(
    session: Session,
    *,
    media_dir: Path,
    organisation_id: int | None,
    purpose: str,
    upload: files.CheckedUpload,
) -> StoredFile:
    """Write a checked upload under the media directory and record it (its id is set)."""
    key = files.store(media_dir, upload)
    stored = StoredFile(
        organisation_id=organisation_id,
        purpose=purpose,
        original_name=upload.original_name,
        content_type=upload.content_type,
        size_bytes=len(upload.data),
        sha256=upload.sha256,
        storage_key=key,
    )
    repository.add(session, stored)
    session.flush()
    return stored


def _checked(
    data: bytes, filename: str, *, allowed: dict[str, str], max_bytes: int, pointer: str
) -> files.CheckedUpload:
    try:
        return files.check_upload(
            data, original_name=filename, allowed=allowed, max_bytes=max_bytes
        )
    except files.UploadError as exc:
        raise field_error(pointer, exc.msgid, exc.code, **exc.params) from exc


def attach_business_registration(
    session: Session,
    *,
    actor: Principal,
    organisation_id: int,
    data: bytes,
    filename: str,
    media_dir: Path,
    max_bytes: int,
) -> StoredFile:
    """Keep the scan of the business-registration certificate (PDF or image)."""
    org = get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not actor.may_manage_organisation(org.id):
        raise NotFound()
    upload = _checked(
        data, filename, allowed=files.DOCUMENT_TYPES, max_bytes=max_bytes, pointer="/file"
    )
    stored = store_file(
        session,
        media_dir=media_dir,
        organisation_id=org.id,
        purpose="business_registration",
        upload=upload,
    )
    before = org.business_registration_file_id
    org.business_registration_file_id = stored.id
    audit.record(
        session,
        actor=actor,
        action="organisation.business_registration_attached",
        entity_type="organisation",
        entity_id=org.id,
        organisation_id=org.id,
        before={"business_registration_file_id": before},
        after={"business_registration_file_id": stored.id, "sha256": stored.sha256},
    )
    return stored


def business_registration_file(
    session: Session, *, actor: Principal, organisation_id: int
) -> StoredFile:
    org = get_organisation(session, actor=actor, organisation_id=organisation_id)
    if org.business_registration_file_id is None:
        raise NotFound()
    stored = repository.stored_file(session, org.business_registration_file_id)
    if stored is None:
        raise NotFound()
    return stored


# facilities ------------------------------------------------------------------------------


def _check_facility(
    session: Session, organisation_id: int, values: dict[str, Any], *, existing_id: int | None
) -> dict[str, Any]:
    errors = ErrorCollector()
    values["gln"] = validation.gln(errors, values.get("gln"))
    validation.address(errors, values["province_code"], values["commune_code"])
    if values["gln"]:
        other = repository.facility_id_by_gln(session, values["gln"])
        if other is not None and other != existing_id:
            errors.add("/gln", N_("This GLN is already registered"), "duplicate")
    if not values.get("location_code"):
        # A location trace code for places without a GLN: commune code + random suffix.
        values["location_code"] = values["gln"] or (
            f"VN{values['commune_code']}-{secrets.token_hex(3).upper()}"
        )
    elif repository.facility_location_code_taken(
        session, organisation_id, values["location_code"], exclude_id=existing_id
    ):
        errors.add("/location_code", N_("Another facility already uses this code"), "duplicate")
    if values["kind"] == "growing_area" and not values.get("growing_area_code"):
        errors.add(
            "/growing_area_code",
            N_("A growing area needs its growing-area code (mã số vùng trồng)"),
            "required",
        )
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        errors.add("/longitude", N_("Give both latitude and longitude, or neither"))
    errors.raise_if_any()
    return values


def create_facility(
    session: Session, *, actor: Principal, organisation_id: int, data: FacilityIn
) -> Facility:
    """Declare a facility or location of the organisation."""
    get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not actor.may_write_organisation(organisation_id):
        raise Forbidden()
    values = _check_facility(session, organisation_id, data.model_dump(), existing_id=None)
    facility = Facility(organisation_id=organisation_id, **values)
    repository.add(session, facility)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="facility.created",
        entity_type="facility",
        entity_id=facility.id,
        organisation_id=organisation_id,
        after=audit.snapshot(facility, FACILITY_FIELDS),
    )
    return facility


def get_facility(session: Session, *, actor: Principal, facility_id: int) -> Facility:
    facility = repository.facility(session, actor, facility_id)
    if facility is None:
        raise NotFound()
    return facility


def list_facilities(
    session: Session,
    *,
    actor: Principal,
    organisation_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Facility], int]:
    return repository.facilities(
        session, actor, organisation_id=organisation_id, page=page, per_page=per_page
    )


def update_facility(
    session: Session, *, actor: Principal, facility_id: int, data: FacilityIn
) -> Facility:
    facility = get_facility(session, actor=actor, facility_id=facility_id)
    if not actor.may_write_organisation(facility.organisation_id):
        raise Forbidden()
    before = audit.snapshot(facility, FACILITY_FIELDS)
    values = _check_facility(
        session, facility.organisation_id, data.model_dump(), existing_id=facility.id
    )
    for name in FACILITY_FIELDS:
        setattr(facility, name, values[name])
    audit.record(
        session,
        actor=actor,
        action="facility.updated",
        entity_type="facility",
        entity_id=facility.id,
        organisation_id=facility.organisation_id,
        before=before,
        after=audit.snapshot(facility, FACILITY_FIELDS),
    )
    return facility


# categories ------------------------------------------------------------------------------


def list_categories(session: Session) -> list[ProductCategory]:
    """The province's catalog is public: every caller sees it."""
    return repository.categories(session)


def create_category(
    session: Session, *, actor: Principal | None, data: CategoryIn
) -> ProductCategory:
    if actor is not None and not actor.is_admin:
        raise Forbidden()
    if repository.category_by_code(session, data.code) is not None:
        raise field_error("/code", N_("This code is already in the catalog"), "duplicate")
    category = ProductCategory(**data.model_dump())
    repository.add(session, category)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="category.created",
        entity_type="product_category",
        entity_id=category.id,
        after=data.model_dump(),
    )
    return category


def update_category(
    session: Session, *, actor: Principal, category_id: int, data: CategoryIn
) -> ProductCategory:
    if not actor.is_admin:
        raise Forbidden()
    category = repository.category_by_id(session, category_id)
    if category is None:
        raise NotFound()
    other = repository.category_by_code(session, data.code)
    if other is not None and other.id != category.id:
        raise field_error("/code", N_("This code is already in the catalog"), "duplicate")
    before = CategoryIn.model_validate(category, from_attributes=True).model_dump()
    for name, value in data.model_dump().items():
        setattr(category, name, value)
    audit.record(
        session,
        actor=actor,
        action="category.updated",
        entity_type="product_category",
        entity_id=category.id,
        before=before,
        after=data.model_dump(),
    )
    return category


# products --------------------------------------------------------------------------------


def _check_product(session: Session, data: ProductIn, *, existing_id: int | None) -> dict[str, Any]:
    errors = ErrorCollector()
    values = data.model_dump(exclude={"certifications", "category_code"})
    values["gtin"] = validation.gtin(errors, data.gtin)
    other = repository.product_id_by_gtin(session, values["gtin"])
    if other is not None and other != existing_id:
        errors.add("/gtin", N_("A product with this GTIN is already registered"), "duplicate")
    category = None
    if data.category_code:
        category = repository.category_by_code(session, data.category_code)
        if category is None:
            errors.add("/category_code", N_("Unknown product category"), "unknown_category")
    values["category_id"] = category.id if category else None
    sector = data.sector or (Sector(category.sector) if category else None)
    if sector is None:
        errors.add("/sector", N_("Choose the responsible sector or a category"), "required")
    values["sector"] = sector.value if sector else None
    if (data.net_content is None) != (data.net_content_unit is None):
        errors.add("/net_content_unit", N_("Give the net content with its unit"))
    if data.net_content_unit and data.net_content_unit not in NET_CONTENT_UNITS:
        errors.add(
            "/net_content_unit",
            N_("Unknown unit: use one of %(units)s"),
            units=", ".join(NET_CONTENT_UNITS),
        )
    values["standards"] = [s for s in (x.strip() for x in data.standards) if s]
    for i, cert in enumerate(data.certifications):
        if cert.valid_to < cert.valid_from:
            errors.add(
                f"/certifications/{i}/valid_to",
                N_("The end of validity is before its start"),
            )
    errors.raise_if_any()
    return values


def _replace_certifications(
    session: Session, product_id: int, data: ProductIn, *, new: bool = False
) -> None:
    if not new:  # a product being created has no certifications to remove
        repository.delete_certifications(session, product_id)
        session.flush()
    for cert in data.certifications:
        repository.add(session, ProductCertification(product_id=product_id, **cert.model_dump()))
    session.flush()


def _product_audit(data: ProductIn, values: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: values[k] for k in PRODUCT_FIELDS},
        "certifications": [c.model_dump() for c in data.certifications],
    }


def create_product(
    session: Session, *, actor: Principal, organisation_id: int, data: ProductIn
) -> Product:
    """Declare a product of the organisation, with its certifications."""
    get_organisation(session, actor=actor, organisation_id=organisation_id)
    if not actor.may_write_organisation(organisation_id):
        raise Forbidden()
    values = _check_product(session, data, existing_id=None)
    product = Product(organisation_id=organisation_id, **values)
    repository.add(session, product)
    session.flush()
    _replace_certifications(session, product.id, data, new=True)
    audit.record(
        session,
        actor=actor,
        action="product.created",
        entity_type="product",
        entity_id=product.id,
        organisation_id=organisation_id,
        after=_product_audit(data, values),
    )
    return product


def get_product(session: Session, *, actor: Principal, product_id: int) -> Product:
    product = repository.product(session, actor, product_id)
    if product is None:
        raise NotFound()
    return product


def list_products(
    session: Session,
    *,
    actor: Principal,
    organisation_id: int | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Product], int]:
    return repository.products(
        session, actor, organisation_id=organisation_id, q=q, page=page, per_page=per_page
    )


def update_product(
    session: Session, *, actor: Principal, product_id: int, data: ProductIn
) -> Product:
    """Replace a product's declaration (certifications included)."""
    product = get_product(session, actor=actor, product_id=product_id)
    if not actor.may_write_organisation(product.organisation_id):
        raise Forbidden()
    before = {
        **audit.snapshot(product, PRODUCT_FIELDS),
        "certifications": [
            audit.snapshot(c, CERTIFICATION_FIELDS)
            for c in repository.certifications_of(session, [product.id])
        ],
    }
    values = _check_product(session, data, existing_id=product.id)
    for name in PRODUCT_FIELDS:
        setattr(product, name, values[name])
    _replace_certifications(session, product.id, data)
    audit.record(
        session,
        actor=actor,
        action="product.updated",
        entity_type="product",
        entity_id=product.id,
        organisation_id=product.organisation_id,
        before=before,
        after=_product_audit(data, values),
    )
    return product


def add_product_image(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    data: bytes,
    filename: str,
    media_dir: Path,
    max_bytes: int,
) -> ProductImage:
    """Attach a JPEG, PNG or WebP image to a product."""
    product = get_product(session, actor=actor, product_id=product_id)
    if not actor.may_write_organisation(product.organisation_id):
        raise Forbidden()
    upload = _checked(
        data, filename, allowed=files.IMAGE_TYPES, max_bytes=max_bytes, pointer="/image"
    )
    stored = store_file(
        session,
        media_dir=media_dir,
        organisation_id=product.organisation_id,
        purpose="product_image",
        upload=upload,
    )
    image = ProductImage(
        product_id=product.id,
        file_id=stored.id,
        position=repository.next_image_position(session, product.id),
    )
    repository.add(session, image)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="product.image_added",
        entity_type="product",
        entity_id=product.id,
        organisation_id=product.organisation_id,
        after={"image_id": image.id, "sha256": stored.sha256, "size_bytes": stored.size_bytes},
    )
    return image


def product_image_file(
    session: Session, *, actor: Principal, product_id: int, image_id: int
) -> StoredFile:
    get_product(session, actor=actor, product_id=product_id)
    found = repository.image_with_file(session, product_id, image_id)
    if found is None:
        raise NotFound()
    return found[1]


CERTIFICATION_FIELDS = ("scheme", "number", "issuer", "valid_from", "valid_to")


def publication_snapshot(session: Session, product: Product) -> dict[str, Any]:
    """What a review of the product approves and the public is shown once it is published: the
    declared fields, the certifications and which images (by id), as JSON."""
    return {
        **audit.snapshot(product, PRODUCT_FIELDS),
        "certifications": [
            audit.snapshot(c, CERTIFICATION_FIELDS)
            for c in repository.certifications_of(session, [product.id])
        ],
        "image_ids": [image.id for image, _ in repository.images_of(session, [product.id])],
    }


def products_out(session: Session, products: list[Product], *, today: date) -> list[ProductOut]:
    """Assemble products with certifications, images and category codes in three queries."""
    ids = [p.id for p in products]
    certs: dict[int, list[CertificationOut]] = {i: [] for i in ids}
    for cert in repository.certifications_of(session, ids):
        out = CertificationOut.model_validate(cert, from_attributes=True)
        out.valid_now = cert.valid_from <= today <= cert.valid_to
        certs[cert.product_id].append(out)
    images: dict[int, list[ProductImageOut]] = {i: [] for i in ids}
    for image, stored in repository.images_of(session, ids):
        images[image.product_id].append(
            ProductImageOut(
                id=image.id,
                url=f"/api/v1/products/{image.product_id}/images/{image.id}",
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
            )
        )
    codes = {c.id: c.code for c in repository.categories(session)}
    return [
        ProductOut(
            id=p.id,
            organisation_id=p.organisation_id,
            gtin=p.gtin,
            name_vi=p.name_vi,
            name_en=p.name_en,
            description_vi=p.description_vi,
            description_en=p.description_en,
            brand=p.brand,
            category_code=codes.get(p.category_id) if p.category_id else None,
            sector=Sector(p.sector),
            net_content=Decimal(p.net_content) if p.net_content is not None else None,
            net_content_unit=p.net_content_unit,
            shelf_life_days=p.shelf_life_days,
            standards=list(p.standards or []),
            ocop_stars=p.ocop_stars,
            geographical_indication=p.geographical_indication,
            status=p.status,
            certifications=certs[p.id],
            images=images[p.id],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in products
    ]
