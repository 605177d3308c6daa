"""The portal's services show published data only, searched without diacritics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from txng.errors import NotFound
from txng.portal import service
from txng.portal.service import ProductQuery

TODAY = date.today()  # noqa: DTZ011 - the certificates of the world are dated from today


def _names(db: Session, **query: object) -> list[str]:
    page = service.search_products(db, query=ProductQuery(**query), today=TODAY)  # type: ignore[arg-type]
    return [p.name_vi for p in page.items]


def test_figures_count_only_published_data(
    db_session: Session, world: Any, publish: Callable[[Session, Any], None]
) -> None:
    figures = service.figures(db_session)
    assert (figures.organisations, figures.products, figures.ocop_products) == (2, 3, 2)
    assert (figures.stamps, figures.scans) == (0, 0)
    publish(db_session, world.draft)
    assert service.figures(db_session).ocop_products == 3


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # The producer "HTX Vải thiều Lục Ngạn" also makes the beans: its own name ranks first.
        ("vai thieu", ["Vải thiều Lục Ngạn", "Đậu tương rau"]),
        ("VAI THIEU", ["Vải thiều Lục Ngạn", "Đậu tương rau"]),
        ("vải thiều", ["Vải thiều Lục Ngạn", "Đậu tương rau"]),
        ("mi chu", ["Mì Chũ"]),
        ("dau", ["Đậu tương rau"]),
        ("lychee", ["Vải thiều Lục Ngạn"]),
        ("chua duyet", []),
    ],
)
def test_search_ignores_diacritics_and_case(
    db_session: Session, world: Any, q: str, expected: list[str]
) -> None:
    assert _names(db_session, q=q) == expected


def test_search_matches_the_producer_name(db_session: Session, world: Any) -> None:
    assert _names(db_session, q="htx luc ngan") == ["Đậu tương rau", "Vải thiều Lục Ngạn"]


def test_filters(db_session: Session, world: Any) -> None:
    assert _names(db_session, commune_code="09187") == ["Mì Chũ"]
    assert _names(db_session, category_id=world.fruit.id) == ["Đậu tương rau", "Vải thiều Lục Ngạn"]
    assert _names(db_session, scheme="vietgap") == ["Vải thiều Lục Ngạn"]  # noodles' expired
    assert _names(db_session, ocop_stars=3) == ["Mì Chũ"]
    assert _names(db_session, ocop_only=True) == ["Mì Chũ", "Vải thiều Lục Ngạn"]
    assert _names(db_session, q="vai", commune_code="09187") == []


def test_paging(db_session: Session, world: Any) -> None:
    first = service.search_products(db_session, query=ProductQuery(), today=TODAY, per_page=2)
    last = service.search_products(
        db_session, query=ProductQuery(), today=TODAY, page=9, per_page=2
    )
    assert (first.total, first.pages, len(first.items)) == (3, 2, 2)
    assert (last.page, len(last.items)) == (2, 1)


def test_product_shows_the_published_snapshot(db_session: Session, world: Any) -> None:
    detail = service.get_product(db_session, product_id=world.lychee.id, today=TODAY)
    # A later edit, not yet reviewed, does not reach the public.
    world.lychee.name_vi = "Tên chưa duyệt"
    db_session.flush()
    detail = service.get_product(db_session, product_id=world.lychee.id, today=TODAY)
    assert detail.product.name_vi == "Vải thiều Lục Ngạn"
    assert detail.product.producer is not None
    assert detail.product.producer.name == "HTX Vải thiều Lục Ngạn"
    assert detail.category is not None
    assert detail.category.code == "trai-cay"
    assert [c.valid_now for c in detail.certifications] == [True]


def test_unpublished_things_are_not_found(db_session: Session, world: Any) -> None:
    with pytest.raises(NotFound):
        service.get_product(db_session, product_id=world.draft.id, today=TODAY)
    with pytest.raises(NotFound):
        service.get_producer(db_session, organisation_id=world.hidden_org.id)


def test_producer_lists_its_published_products(db_session: Session, world: Any) -> None:
    detail = service.get_producer(db_session, organisation_id=world.luc_ngan.id)
    assert [p.name_vi for p in detail.products] == ["Đậu tương rau", "Vải thiều Lục Ngạn"]


def test_catalog_splits_priority_and_mandatory(db_session: Session, world: Any) -> None:
    catalog = service.catalog(db_session)
    assert [c.code for c in catalog.priority] == ["trai-cay"]
    assert [c.code for c in catalog.mandatory] == ["che-bien"]
