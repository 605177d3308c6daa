"""What the public portal shows: only published data, each thing as its published snapshot.

Search folds Vietnamese diacritics in Python over the published products' snapshots (see
``search.py``): no schema change, the same function on the query and on the data, and correct on
SQLite and PostgreSQL alike. A province publishes thousands of products, not millions; when that
stops being cheap, a folded ``search_key`` column filled at publication can take over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from txng.errors import NotFound
from txng.models import ProductCategory, ReviewItem, StoredFile
from txng.portal import repository
from txng.portal.search import best_rank, fold, search_key
from txng.registry import service as registry_service

PRODUCT = "product"
ORGANISATION = "organisation"
# Tables of the stamp module (C5); counted only once that module has created them.
STAMP_TABLE = "stamp"
SCAN_TABLE = "stamp_scan"
OCOP_STARS = (3, 4, 5)
PER_PAGE = 20
FEATURED = 6


@dataclass(frozen=True)
class PublicOrganisation:
    id: int
    name: str
    name_en: str
    kind: str
    commune_code: str
    street_address: str
    tax_code: str
    gln: str
    website: str

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


@dataclass(frozen=True)
class PublicProduct:
    id: int
    organisation_id: int
    gtin: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    brand: str
    category_id: int | None
    sector: str
    net_content: Decimal | None
    net_content_unit: str | None
    shelf_life_days: int | None
    standards: list[str]
    ocop_stars: int | None
    geographical_indication: str
    commune_code: str | None
    published_at: datetime | None
    producer: PublicOrganisation | None = None
    name_key: str = ""  # folded names, brand and indication: searched first
    key: str = ""  # with the producer's name

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi

    @property
    def net_content_decimals(self) -> int:
        """Decimals worth showing: 0,5 kg rather than 0,500 kg."""
        if self.net_content is None:
            return 0
        exponent = self.net_content.normalize().as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0

    def description(self, locale: str) -> str:
        return (
            self.description_en if locale == "en" and self.description_en else self.description_vi
        )


def _text(snapshot: dict[str, Any], name: str) -> str:
    value = snapshot.get(name)
    return str(value) if value is not None else ""


def _int(snapshot: dict[str, Any], name: str) -> int | None:
    value = snapshot.get(name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _organisation(item: ReviewItem) -> PublicOrganisation:
    s = item.snapshot
    return PublicOrganisation(
        id=item.entity_id,
        name=_text(s, "name"),
        name_en=_text(s, "name_en"),
        kind=_text(s, "kind"),
        commune_code=_text(s, "commune_code"),
        street_address=_text(s, "street_address"),
        tax_code=_text(s, "tax_code"),
        gln=_text(s, "gln"),
        website=_text(s, "website"),
    )


def _product(item: ReviewItem, producer: PublicOrganisation | None) -> PublicProduct:
    s = item.snapshot
    net = s.get("net_content")
    name_key = search_key(
        s.get("name_vi"), s.get("name_en"), s.get("brand"), s.get("geographical_indication")
    )
    return PublicProduct(
        id=item.entity_id,
        organisation_id=item.organisation_id,
        gtin=_text(s, "gtin"),
        name_vi=_text(s, "name_vi"),
        name_en=_text(s, "name_en"),
        description_vi=_text(s, "description_vi"),
        description_en=_text(s, "description_en"),
        brand=_text(s, "brand"),
        category_id=_int(s, "category_id"),
        sector=_text(s, "sector"),
        net_content=Decimal(str(net)) if net is not None else None,
        net_content_unit=s.get("net_content_unit"),
        shelf_life_days=_int(s, "shelf_life_days"),
        standards=[str(x) for x in s.get("standards") or []],
        ocop_stars=_int(s, "ocop_stars"),
        geographical_indication=_text(s, "geographical_indication"),
        commune_code=item.commune_code,
        published_at=item.published_at,
        producer=producer,
        name_key=name_key,
        key=search_key(name_key, producer.name if producer else None),
    )


def _producers(session: Session, organisation_ids: list[int]) -> dict[int, PublicOrganisation]:
    items = repository.published_items_by_ids(session, ORGANISATION, organisation_ids)
    return {item.entity_id: _organisation(item) for item in items}


def _published_products(
    session: Session, *, commune_code: str | None = None, organisation_id: int | None = None
) -> list[PublicProduct]:
    items = repository.published_items(
        session, PRODUCT, commune_code=commune_code, organisation_id=organisation_id
    )
    producers = _producers(session, [i.organisation_id for i in items])
    return [_product(i, producers.get(i.organisation_id)) for i in items]


# figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    organisations: int
    products: int
    ocop_products: int
    stamps: int
    scans: int


def figures(session: Session) -> Figures:
    """The home page's live figures, of published data only."""
    products = repository.published_items(session, PRODUCT)
    return Figures(
        organisations=repository.count_published(session, ORGANISATION),
        products=len(products),
        ocop_products=sum(1 for p in products if _int(p.snapshot, "ocop_stars")),
        stamps=repository.count_rows_if_table(session, STAMP_TABLE),
        scans=repository.count_rows_if_table(session, SCAN_TABLE),
    )


def featured_ocop(session: Session, *, limit: int = FEATURED) -> list[PublicProduct]:
    """The best-rated OCOP products, most stars first."""
    ocop = [p for p in _published_products(session) if p.ocop_stars]
    ocop.sort(key=lambda p: (-(p.ocop_stars or 0), fold(p.name_vi), p.id))
    return ocop[:limit]


# search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductQuery:
    q: str = ""
    commune_code: str | None = None
    category_id: int | None = None
    scheme: str | None = None
    ocop_stars: int | None = None
    ocop_only: bool = False  # any OCOP rating


@dataclass(frozen=True)
class ProductPage:
    items: list[PublicProduct]
    total: int
    page: int
    pages: int


def search_products(
    session: Session, *, query: ProductQuery, today: date, page: int = 1, per_page: int = PER_PAGE
) -> ProductPage:
    """Published products matching every filter; the words of ``q`` match without diacritics."""
    found = _published_products(session, commune_code=query.commune_code)
    if query.category_id is not None:
        found = [p for p in found if p.category_id == query.category_id]
    if query.ocop_stars is not None:
        found = [p for p in found if p.ocop_stars == query.ocop_stars]
    elif query.ocop_only:
        found = [p for p in found if p.ocop_stars]
    if query.scheme is not None:
        certified = repository.products_with_valid_certification(session, query.scheme, today)
        found = [p for p in found if p.id in certified]
    q = fold(query.q)
    ranked = [(r, p) for p in found if (r := best_rank(q, p.name_key, p.key)) is not None]
    ranked.sort(key=lambda rp: (rp[0], fold(rp[1].name_vi), rp[1].id))
    total = len(ranked)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return ProductPage([p for _, p in ranked[start : start + per_page]], total, page, pages)


def commune_codes(session: Session) -> list[str]:
    """The communes that have published products: the options of the commune filter."""
    return sorted(
        {i.commune_code for i in repository.published_items(session, PRODUCT) if i.commune_code}
    )


def categories(session: Session) -> list[ProductCategory]:
    """The province's catalog is public (C1)."""
    return registry_service.list_categories(session)


# product and producer pages --------------------------------------------------------------


@dataclass(frozen=True)
class CertificationFacts:
    scheme: str
    number: str
    issuer: str
    valid_from: date
    valid_to: date


@dataclass(frozen=True)
class PublicCertification:
    scheme: str
    number: str
    issuer: str
    valid_from: date
    valid_to: date
    valid_now: bool


@dataclass(frozen=True)
class ProductDetail:
    product: PublicProduct
    category: ProductCategory | None
    certifications: list[PublicCertification] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)


def get_product(session: Session, *, product_id: int, today: date) -> ProductDetail:
    """A published product; 404 when it has no published version."""
    item = repository.published_item(session, PRODUCT, product_id)
    if item is None:
        raise NotFound()
    producer = _producers(session, [item.organisation_id]).get(item.organisation_id)
    product = _product(item, producer)
    category = next((c for c in categories(session) if c.id == product.category_id), None)
    certs = [
        PublicCertification(
            c.scheme,
            c.number,
            c.issuer,
            c.valid_from,
            c.valid_to,
            c.valid_from <= today <= c.valid_to,
        )
        for c in published_certifications(session, item)
    ]
    return ProductDetail(product, category, certs, published_image_ids(session, item))


def published_certifications(session: Session, item: ReviewItem) -> list[CertificationFacts]:
    """The certifications as reviewed in the published version (versions published before
    certifications were part of the snapshot: the declared ones)."""
    listed = item.snapshot.get("certifications")
    if not isinstance(listed, list):
        return [
            CertificationFacts(c.scheme, c.number, c.issuer, c.valid_from, c.valid_to)
            for c in repository.certifications_of(session, item.entity_id)
        ]
    return sorted(
        (
            CertificationFacts(
                str(c["scheme"]),
                str(c["number"]),
                str(c["issuer"]),
                date.fromisoformat(str(c["valid_from"])),
                date.fromisoformat(str(c["valid_to"])),
            )
            for c in listed
        ),
        key=lambda c: c.valid_to,
        reverse=True,
    )


def published_image_ids(session: Session, item: ReviewItem) -> list[int]:
    """The images of the published version that still exist, in their order."""
    live = repository.image_ids_of(session, item.entity_id)
    listed = item.snapshot.get("image_ids")
    if not isinstance(listed, list):
        return live
    return [i for i in live if i in set(listed)]


def published_media(
    session: Session, *, product_id: int
) -> tuple[list[CertificationFacts], list[int]]:
    """The certifications and image ids of a product's published version (none if unpublished)."""
    item = repository.published_item(session, PRODUCT, product_id)
    if item is None:
        return [], []
    return published_certifications(session, item), published_image_ids(session, item)


def product_image(session: Session, *, product_id: int, image_id: int) -> StoredFile:
    """An image of a published product, as reviewed (an image added since is not shown yet)."""
    item = repository.published_item(session, PRODUCT, product_id)
    if item is None or image_id not in published_image_ids(session, item):
        raise NotFound()
    stored = repository.image_file(session, product_id, image_id)
    if stored is None:
        raise NotFound()
    return stored


@dataclass(frozen=True)
class ProducerDetail:
    organisation: PublicOrganisation
    products: list[PublicProduct]


def get_producer(session: Session, *, organisation_id: int) -> ProducerDetail:
    """A published organisation profile and its published products; 404 when not published."""
    item = repository.published_item(session, ORGANISATION, organisation_id)
    if item is None:
        raise NotFound()
    org = _organisation(item)
    products = _published_products(session, organisation_id=org.id)
    products.sort(key=lambda p: (fold(p.name_vi), p.id))
    return ProducerDetail(org, products)


@dataclass(frozen=True)
class ProducerPage:
    items: list[PublicOrganisation]
    total: int
    page: int
    pages: int


def search_producers(
    session: Session,
    *,
    q: str = "",
    commune_code: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ProducerPage:
    """Published organisation profiles whose names match ``q`` without diacritics."""
    items = repository.published_items(session, ORGANISATION, commune_code=commune_code)
    query = fold(q)
    ranked = []
    for org in (_organisation(i) for i in items):
        found = best_rank(query, search_key(org.name, org.name_en))
        if found is not None:
            ranked.append((found, fold(org.name), org.id, org))
    ranked.sort(key=lambda row: row[:3])
    total = len(ranked)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return ProducerPage([row[3] for row in ranked[start : start + per_page]], total, page, pages)


# catalog ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    priority: list[ProductCategory]
    mandatory: list[ProductCategory]


def catalog(session: Session) -> Catalog:
    """The province's priority and mandatory product categories."""
    rows = sorted(categories(session), key=lambda c: fold(c.name_vi))
    return Catalog([c for c in rows if c.is_priority], [c for c in rows if c.is_mandatory])
