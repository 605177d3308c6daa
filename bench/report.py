"""docs/BENCHMARKS.md: the machine, the command and one table per benchmark."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.api import HEALTH_PATH, PRODUCTS_PATH, ApiResult
from bench.ingest import IngestResult

TIMEZONE = "Asia/Ho_Chi_Minh"

HOW_TO_READ = """\
## How to read

Every figure sits next to a baseline measured in the same run, on the same machine and database,
so read the ratio rather than the absolute number: absolute rates move with the machine, its load
and the disk, ratios much less. In benchmark 1 the ratio is the share of raw INSERT speed that
`create_product` keeps after validating the GTIN and the organisation, checking for duplicates,
flushing, replacing certifications and writing the audit entry (1.0 would be free, 0.1 means
each declaration costs ten raw inserts). In benchmark 2 the ratio is the share of a bare
`SELECT 1` endpoint's throughput left when a request also authenticates an API key, counts and
loads a page of 50 products with their certifications, images and categories and serialises them;
p50/p95 show the latency a single client sees. Requests are sequential over one keep-alive
connection from one client on loopback, so these are per-request costs, not the server's capacity
under concurrency. A change that lowers a ratio noticeably deserves a look before it is merged;
timing is never asserted in the test suite.
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _libraries() -> str:
    names = ("sqlalchemy", "fastapi", "uvicorn", "psycopg", "httpx2")
    versions = ", ".join(f"{n} {importlib.metadata.version(n)}" for n in names)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{versions} (uvicorn on {loop} + {http})"


def machine(pg_version: str | None) -> list[tuple[str, str]]:
    now = datetime.now(ZoneInfo(TIMEZONE))
    return [
        ("date", f"{now:%Y-%m-%d %H:%M} ({TIMEZONE}, UTC{now.isoformat()[-6:]})"),
        ("CPU", f"{os.cpu_count()} cores (nproc), {_cpu_model()}"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", f"server {pg_version}" if pg_version else "not reachable: skipped"),
        ("libraries", _libraries()),
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ingest_section(results: list[IngestResult]) -> str:
    first = results[0]
    intro = (
        "## 1. Product declaration throughput\n\n"
        f"{first.products:,} products per run in transactions of {first.batch}, median of "
        f"{first.repeats} run(s) after one warm-up batch, on a freshly migrated database. "
        "Figure: `txng.registry.service.create_product` with a provincial-admin principal, "
        "inside `txng.db.session_scope`. Baseline: SQLAlchemy Core `insert(Product)` "
        "executemany of the same rows (fresh GTINs) in the same transaction sizes.\n\n"
    )
    rows = [
        [r.database, f"{r.raw_per_s:,.0f}", f"{r.service_per_s:,.0f}", f"{r.ratio:.3f}"]
        for r in results
    ]
    header = [
        "database",
        "baseline: Core INSERT (products/s)",
        "create_product (products/s)",
        "ratio service / baseline",
    ]
    return intro + _table(header, rows)


def api_section(results: list[ApiResult]) -> str:
    first = results[0]
    intro = (
        "## 2. API read latency and throughput\n\n"
        f"The app (`create_app`) in one uvicorn worker on 127.0.0.1, a subprocess; one httpx2 "
        f"client sends sequential requests on a keep-alive connection: {first.warmup} warm-up "
        f"requests per endpoint, then {first.requests} timed requests per endpoint and run, "
        f"alternating endpoints, median of {first.repeats} run(s). Figure: "
        f"`GET {PRODUCTS_PATH}` with a Bearer API key of an organisation holding "
        f"{first.products} products. Baseline: `GET {HEALTH_PATH}` (`SELECT 1`) on the same "
        "server.\n\n"
    )
    header = [
        "database",
        "baseline /healthz (req/s)",
        "p50 ms",
        "p95 ms",
        "/api/v1/products (req/s)",
        "p50 ms",
        "p95 ms",
        "ratio products / healthz (req/s)",
    ]
    rows = [
        [
            r.database,
            f"{r.healthz.per_s:,.0f}",
            f"{r.healthz.p50_ms:.2f}",
            f"{r.healthz.p95_ms:.2f}",
            f"{r.listing.per_s:,.0f}",
            f"{r.listing.p50_ms:.2f}",
            f"{r.listing.p95_ms:.2f}",
            f"{r.ratio:.3f}",
        ]
        for r in results
    ]
    return intro + _table(header, rows)


def render(
    facts: list[tuple[str, str]],
    command: str,
    ingest: list[IngestResult],
    api: list[ApiResult],
    notes: list[str],
) -> str:
    parts = [
        "# Benchmarks\n\n"
        "Generated by the command below; do not edit by hand, rerun it. Figures are ratios to a "
        "baseline measured in the same run (see *How to read*).\n\n"
        f"```\n{command}\n```\n\n## Machine\n\n" + _table(["", ""], [list(f) for f in facts]),
        *([" ".join(notes) + "\n"] if notes else []),
        ingest_section(ingest),
        api_section(api),
        HOW_TO_READ,
    ]
    return "\n".join(parts)
