"""Scratch databases and the data the benchmarks need, built through the services."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role, Sector
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.kit.gs1 import normalize_gtin, with_check_digit
from txng.kit.taxcode import make_tax_code
from txng.migrations import runner
from txng.registry import service as registry_service
from txng.registry.schemas import OrganisationIn, ProductIn

PG_ADMIN_URL = os.environ.get(
    "TXNG_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "txng_bench"
ADMIN = Principal(role=Role.PROVINCIAL_ADMIN, label="benchmark admin")
LUC_NGAN = "07582"
_seq = itertools.count(1)


@dataclass(frozen=True)
class Backend:
    """A database kind the benchmarks run on: "SQLite" or "PostgreSQL"."""

    name: str


SQLITE = Backend("SQLite")
POSTGRESQL = Backend("PostgreSQL")


def postgres_version() -> str | None:
    """The server version, or None when nothing answers at PG_ADMIN_URL."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError:
        return None
    return str(row[0]) if row else "?"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def scratch_database(
    backend: Backend, workdir: Path, tag: str, *, pg_name: str = PG_DATABASE
) -> Iterator[str]:
    """A freshly migrated database (temp SQLite file or `txng_bench`), removed afterwards.

    A benchmark run on its own (``python -m bench.ledger``) passes a ``pg_name`` of its own so
    that it never drops the database another benchmark is using."""
    if backend == SQLITE:
        path = workdir / f"{tag}.sqlite3"
        url = f"sqlite:///{path}"
        runner.upgrade(url)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{pg_name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{pg_name}"
    try:
        runner.upgrade(url)
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def tax_code() -> str:
    while True:
        try:
            return make_tax_code(f"24{next(_seq):07d}")
        except ValueError:
            continue


def organisation_input(name: str) -> OrganisationIn:
    return OrganisationIn.model_validate(
        {
            "kind": "cooperative",
            "name": name,
            "tax_code": tax_code(),
            "sector": Sector.AGRICULTURE,
            "province_code": "24",
            "commune_code": LUC_NGAN,
        }
    )


def product_inputs(count: int) -> list[ProductIn]:
    """Declarations with unique GTIN-13s (prefix 893, Vietnam) and a typical set of fields."""
    return [
        ProductIn.model_validate(
            {
                "gtin": with_check_digit(f"893{next(_seq):09d}"),
                "name_vi": f"Vải thiều Lục Ngạn loại {i % 3 + 1}, hộp {i}",
                "brand": "HTX Vải thiều Lục Ngạn",
                "sector": Sector.AGRICULTURE,
                "net_content": Decimal("1.000"),
                "net_content_unit": "kg",
                "shelf_life_days": 10,
                "standards": ["VietGAP"],
            }
        )
        for i in range(count)
    ]


def raw_rows(organisation_id: int, inputs: list[ProductIn]) -> list[dict[str, Any]]:
    """The rows create_product stores for these declarations, ready for a Core INSERT."""
    return [
        {
            **data.model_dump(exclude={"certifications", "category_code"}),
            "gtin": normalize_gtin(data.gtin),
            "sector": Sector.AGRICULTURE.value,
            "category_id": None,
            "organisation_id": organisation_id,
        }
        for data in inputs
    ]


def seed_api_world(url: str, products: int) -> str:
    """One cooperative with `products` products and an API key; returns the full key."""
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            org = registry_service.register_organisation(
                session, actor=ADMIN, data=organisation_input("HTX Vải thiều (API)")
            )
            _, key = accounts_service.create_api_key(
                session, actor=None, organisation_id=org.id, name="benchmark"
            )
            for data in product_inputs(products):
                registry_service.create_product(
                    session, actor=ADMIN, organisation_id=org.id, data=data
                )
        return key
    finally:
        engine.dispose()
