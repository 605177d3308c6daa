"""Benchmark 7: generating and storing 1M stamps (issue_stamps) beside a raw INSERT of the same
number of rows (driver COPY / executemany of rows drawn beforehand, the same way).

`python -m bench.stamps [--stamps N]` runs it alone on SQLite (and PostgreSQL when it answers)
and prints the figures; `python -m bench.run --only stamps` puts them in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.memory import fmt_mib, peak_rss_mib
from bench.world import (
    ADMIN,
    POSTGRESQL,
    SQLITE,
    Backend,
    organisation_input,
    scratch_database,
)
from bench.world import postgres_version as _pg_version
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.kit.gs1 import with_check_digit
from txng.models import StampRequest
from txng.registry import service as registry_service
from txng.registry.schemas import ProductIn
from txng.stamps import codes
from txng.stamps import service as stamps_service
from txng.stamps.repository import STAMP_COLUMNS

TARGET_S = 60.0  # the issue: 1M stamps generated and stored in under a minute
COLUMNS = STAMP_COLUMNS  # the rows issue_stamps writes


@dataclass(frozen=True)
class StampsResult:
    database: str
    stamps: int
    service_s: float  # issue_stamps: codes drawn + rows inserted in chunks of 5,000, committed
    generate_s: float  # drawing the same number of codes alone, in Python
    raw_s: float  # executemany INSERT of pre-drawn rows alone
    peak_rss_mib: float | None  # None where /proc gives no figure

    @property
    def per_s(self) -> float:
        return self.stamps / self.service_s

    @property
    def ratio(self) -> float:
        return self.raw_s / self.service_s


def _world(engine: Engine, stamps: int) -> tuple[int, int]:
    """An organisation, a product and two approved requests (service, raw) of ``stamps``."""
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        org = registry_service.register_organisation(
            session, actor=ADMIN, data=organisation_input("HTX Tem")
        )
        product = registry_service.create_product(
            session,
            actor=ADMIN,
            organisation_id=org.id,
            data=ProductIn.model_validate(
                {
                    "gtin": with_check_digit("893000199999"),
                    "name_vi": "Vải thiều",
                    "sector": "agriculture",
                }
            ),
        )
        ids = []
        for _ in range(2):
            req = StampRequest(
                organisation_id=org.id,
                product_id=product.id,
                quantity=stamps,
                label_template="a4-3x8",
                with_pin=True,
                state="approved",
                issued_count=0,
            )
            session.add(req)
            session.flush()
            ids.append(req.id)
        return ids[0], ids[1]


def _raw_rows(request_id: int, stamps: int) -> list[tuple[Any, ...]]:
    from txng.models.base import utcnow

    now = utcnow()
    gtin = "0" + with_check_digit("893000199999")
    return [
        (
            request_id,
            1,
            1,
            gtin,
            codes.new_serial(),
            codes.new_short_code(),
            codes.new_pin(),
            None,
            "issued",
            now,
        )
        for _ in range(stamps)
    ]


def _raw_insert(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    """COPY (PostgreSQL) or executemany INSERT (SQLite) on the driver, 5,000 rows a call."""
    postgres = engine.dialect.name == "postgresql"
    names = ", ".join(COLUMNS)
    sql = f"INSERT INTO stamp ({names}) VALUES ({', '.join(['?'] * len(COLUMNS))})"  # noqa: S608
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        started = time.perf_counter()
        cursor = dbapi.cursor()
        for start in range(0, len(rows), 5000):
            if postgres:
                with cursor.copy(f"COPY stamp ({names}) FROM STDIN") as copy:
                    for row in rows[start : start + 5000]:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows[start : start + 5000])
        dbapi.commit()
        return time.perf_counter() - started


def run_stamps(database: str, url: str, *, stamps: int) -> StampsResult:
    engine = make_engine(url)
    try:
        service_id, raw_id = _world(engine, stamps)
        factory = make_sessionmaker(engine)
        started = time.perf_counter()
        with session_scope(factory) as session:
            stamps_service.issue_stamps(session, request_id=service_id)
        service_s = time.perf_counter() - started
        started = time.perf_counter()
        rows = _raw_rows(raw_id, stamps)
        generate_s = time.perf_counter() - started
        raw_s = _raw_insert(engine, rows)
        del rows
    finally:
        engine.dispose()
    return StampsResult(database, stamps, service_s, generate_s, raw_s, peak_rss_mib())


def section(results: list[StampsResult]) -> str:
    lines = [
        "## 7. Stamps: generating and storing 1M codes\n",
        "`issue_stamps` draws each stamp's serial (65 bits), short code (45 bits + check symbol)",
        "and PIN with `secrets`, and stores them in chunks of 5,000 (COPY on PostgreSQL, one",
        "executemany INSERT on SQLite, a savepoint around each for the unlikely code collision),",
        "in one transaction. The raw baseline stores the same number of rows drawn beforehand the",
        'same way on the driver (drawing them is timed apart, in the "draw codes alone" column).',
        f"Target: under {TARGET_S:.0f} s for 1M stamps.\n",
        "| database | stamps | issue_stamps | stamps/s | draw codes alone | raw INSERT alone "
        "| raw / service | peak RSS | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        met = "met" if r.service_s < TARGET_S * r.stamps / 1_000_000 else "**missed**"
        lines.append(
            f"| {r.database} | {r.stamps:,} | {r.service_s:.1f} s | {r.per_s:,.0f} "
            f"| {r.generate_s:.1f} s | {r.raw_s:.1f} s | {r.ratio:.2f} | "
            f"{fmt_mib(r.peak_rss_mib)} MiB | {met} |"
        )
    return "\n".join(lines) + "\n"


def run_all(backends: list[Backend], workdir: Path, *, stamps: int) -> list[StampsResult]:
    results = []
    for backend in backends:
        with scratch_database(backend, workdir, "stamps") as url:
            results.append(run_stamps(backend.name, url, stamps=stamps))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stamps", description=__doc__)
    parser.add_argument("--stamps", type=int, default=1_000_000)
    args = parser.parse_args()
    backends = [SQLITE] + ([POSTGRESQL] if _pg_version() else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="txng-bench-") as tmp:
        for backend in backends:
            with scratch_database(backend, Path(tmp), "stamps", pg_name="txng_bench_stamps") as url:
                results.append(run_stamps(backend.name, url, stamps=args.stamps))
            print(section(results), flush=True)


if __name__ == "__main__":
    main()
