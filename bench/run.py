"""`python -m bench.run [--quick]`: run the benchmarks and write docs/BENCHMARKS.md.

SQLite (a temp file) always; PostgreSQL (scratch database `txng_bench`, created and dropped) when
a server answers at TXNG_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import report
from bench.api import ApiResult, run_api
from bench.ingest import IngestResult, run_ingest
from bench.world import (
    PG_ADMIN_URL,
    POSTGRESQL,
    SQLITE,
    Backend,
    postgres_version,
    scratch_database,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "BENCHMARKS.md"


@dataclass(frozen=True)
class Plan:
    products: int
    batch: int
    api_products: int
    requests: int
    warmup: int
    repeats: int


FULL = Plan(products=2000, batch=100, api_products=200, requests=500, warmup=50, repeats=3)
QUICK = Plan(products=300, batch=100, api_products=200, requests=100, warmup=20, repeats=1)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (smoke check)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown to write")
    return parser.parse_args(argv)


def _run_backend(backend: Backend, plan: Plan, workdir: Path) -> tuple[IngestResult, ApiResult]:
    print(f"[{backend.name}] product declaration: {plan.products} x {plan.repeats} ...")
    with scratch_database(backend, workdir, "ingest") as url:
        ingest = run_ingest(
            backend.name, url, products=plan.products, batch=plan.batch, repeats=plan.repeats
        )
    print(f"[{backend.name}] API reads: {plan.requests} x 2 endpoints x {plan.repeats} ...")
    with scratch_database(backend, workdir, "api") as url:
        api = run_api(
            backend.name,
            url,
            workdir / f"var-{backend.name.lower()}",
            products=plan.api_products,
            requests=plan.requests,
            warmup=plan.warmup,
            repeats=plan.repeats,
        )
    return ingest, api


def _print_summary(ingest: list[IngestResult], api: list[ApiResult]) -> None:
    for i in ingest:
        print(
            f"{i.database:10} declare: raw {i.raw_per_s:8,.0f}/s  service "
            f"{i.service_per_s:8,.0f}/s  ratio {i.ratio:.3f}"
        )
    for a in api:
        print(
            f"{a.database:10} read:    healthz {a.healthz.per_s:6,.0f}/s "
            f"(p50 {a.healthz.p50_ms:.2f} ms)  products {a.listing.per_s:6,.0f}/s "
            f"(p50 {a.listing.p50_ms:.2f} ms, p95 {a.listing.p95_ms:.2f} ms)  "
            f"ratio {a.ratio:.3f}"
        )


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    logging.getLogger("alembic").setLevel(logging.WARNING)
    pg_version = postgres_version()
    backends = [SQLITE] + ([POSTGRESQL] if pg_version else [])
    notes: list[str] = []
    if pg_version is None:
        notes.append(f"PostgreSQL did not answer at {PG_ADMIN_URL}: only SQLite was measured.")
        print(notes[-1])
    started = time.perf_counter()
    results: list[tuple[IngestResult, ApiResult]] = []
    with tempfile.TemporaryDirectory(prefix="txng-bench-") as tmp:
        for backend in backends:
            results.append(_run_backend(backend, plan, Path(tmp)))
    ingest = [r[0] for r in results]
    api = [r[1] for r in results]
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    text = report.render(report.machine(pg_version), command, ingest, api, notes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    _print_summary(ingest, api)
    print(f"wrote {args.output} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
