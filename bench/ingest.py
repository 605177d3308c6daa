"""Benchmark 1: product declaration through the service layer vs. a raw Core INSERT."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from bench.world import ADMIN, organisation_input, product_inputs, raw_rows
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.models import Product
from txng.registry import service as registry_service
from txng.registry.schemas import ProductIn

T = TypeVar("T")


@dataclass(frozen=True)
class IngestResult:
    database: str
    products: int
    batch: int
    repeats: int
    raw_per_s: float
    service_per_s: float

    @property
    def ratio(self) -> float:
        return self.service_per_s / self.raw_per_s


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _time_service(
    factory: sessionmaker[Session], org_id: int, inputs: list[ProductIn], batch: int
) -> float:
    """Seconds to declare every product with create_product, one transaction per batch."""
    start = time.perf_counter()
    for chunk in _chunks(inputs, batch):
        with session_scope(factory) as session:
            for data in chunk:
                registry_service.create_product(
                    session, actor=ADMIN, organisation_id=org_id, data=data
                )
    return time.perf_counter() - start


def _time_raw(engine: Engine, rows: list[dict[str, Any]], batch: int) -> float:
    """Seconds to insert the same rows with a Core executemany, one transaction per batch."""
    stmt = insert(Product)
    start = time.perf_counter()
    for chunk in _chunks(rows, batch):
        with engine.begin() as conn:
            conn.execute(stmt, list(chunk))
    return time.perf_counter() - start


def _organisation(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as session:
        org = registry_service.register_organisation(
            session, actor=ADMIN, data=organisation_input("HTX Vải thiều Lục Ngạn")
        )
        return org.id


def run_ingest(database: str, url: str, *, products: int, batch: int, repeats: int) -> IngestResult:
    """Alternate raw and service runs on fresh GTINs; report the median rate of each."""
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        org_id = _organisation(factory)
        _time_raw(engine, raw_rows(org_id, product_inputs(batch)), batch)  # warm-up
        _time_service(factory, org_id, product_inputs(batch), batch)
        raw: list[float] = []
        served: list[float] = []
        for _ in range(repeats):
            rows = raw_rows(org_id, product_inputs(products))
            raw.append(products / _time_raw(engine, rows, batch))
            inputs = product_inputs(products)
            served.append(products / _time_service(factory, org_id, inputs, batch))
    finally:
        engine.dispose()
    return IngestResult(
        database=database,
        products=products,
        batch=batch,
        repeats=repeats,
        raw_per_s=statistics.median(raw),
        service_per_s=statistics.median(served),
    )
