"""docs/BENCHMARKS.md: the machine, the command and one table per benchmark."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.api import HEALTH_PATH, PRODUCTS_PATH, ApiResult
from bench.capture import CORES, DOCUMENT_EVENTS, PEAK_EVENTS, STREAMS, CaptureResult
from bench.ingest import IngestResult
from bench.load import Loaded
from bench.memory import fmt_mib
from bench.trace import MAX_DEPTH, RecallResult, TraceResult

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
under concurrency. In benchmark 3 the ratios are the share of the raw COPY (executemany)
rate of the very rows capture stores that capture keeps after validating, hashing, checking
for duplicates and writing its job, review and audit rows; the µs table shows where the rest
goes. In benchmark 4 the ratio is how many single indexed lookups a whole trace costs, and *p95
per answer node* shows whether latency grows with the data or with the answer. In benchmark 5
the ratio is the recall's cost in units of writing the same spreadsheet with the library alone.
Peak memory (RSS, MiB) comes from /proc (VmHWM) of a process that did only that work. A change
that lowers a ratio noticeably deserves a look before it is merged; timing is never asserted in
the test suite.
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
        ("load average", f"{os.getloadavg()[0]:.2f} (1 min, when the report was written)"),
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


CAPTURE_TARGET_PER_S = 10_000  # PostgreSQL, this 2-core machine (the issue)
CAPTURE_TARGET_RATIO = 0.25  # of the raw rate
TRACE_TARGET_P95_MS = 50.0  # at 10M events, PostgreSQL
RECALL_TARGET_S = 5.0


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def capture_section(results: list[CaptureResult]) -> str:
    first = results[0]
    intro = (
        "## 3. EPCIS capture throughput\n\n"
        "Events of the supply-chain generator (`bench/chains.py`: farms → packing houses → "
        f"processors → distributors → retailers; {first.idents_per_event:.1f} identifier rows and "
        f"{first.links_per_event:.1f} link rows per event) in documents of {DOCUMENT_EVENTS} "
        f"events captured by one organisation, {first.events:,} events per run, median of "
        f"{first.repeats} run(s) after a warm-up document; one transaction per document, commit "
        "included. Each run captures its own harvest round: no identifier is in the in-process "
        "caches from an earlier run and no event is a duplicate. Figures: "
        "`txng.epcis.capture.capture` (validation, CBV event hash, canonical identifiers, "
        "storage, capture job, audit entry) for events without eventID (the hash becomes the ID) "
        "and with one (`urn:uuid:`); and `POST /epcis/capture` (no eventIDs) to the app in one "
        "uvicorn worker, a subprocess, from one client sending the documents one after another "
        f"(bodies serialised beforehand); and {STREAMS} processes capturing at once (as the "
        f"{STREAMS} workers of `txng serve` would), each its own run of the same size after a "
        "warm-up document, all their events over the time from the first start to the last end. "
        "Baseline: the rows capture stores for the same kind of "
        "documents (event, identifier and link rows, built beforehand by the same functions) "
        "written raw on the driver's connection, one transaction per document: `COPY … FROM "
        "STDIN` on PostgreSQL, `executemany` INSERT on SQLite. Memory: resident set of a fresh "
        f"process capturing one document of {PEAK_EVENTS:,} events (the capture limit), once it "
        "holds the document and at its peak (VmHWM); of the server, idle and at its peak after "
        "the HTTP run.\n\n"
    )
    header = [
        "database",
        "baseline: raw (events/s)",
        "raw (rows/s)",
        "capture, no eventID (events/s)",
        "ratio",
        "capture, with eventID (events/s)",
        "ratio",
        "HTTP POST (events/s)",
        "ratio",
        f"{STREAMS} processes at once, no eventID (events/s, together)",
        f"{STREAMS} processes at once, with eventID (events/s, together)",
        f"RSS, capture of {PEAK_EVENTS:,} events: before → peak (MiB)",
        "RSS, server: idle → peak (MiB)",
    ]
    rows = [
        [
            r.database,
            f"{r.raw_per_s:,.0f}",
            f"{r.raw_rows_per_s:,.0f}",
            f"{r.service_per_s:,.0f}",
            f"{r.ratio:.3f}",
            f"{r.service_ids_per_s:,.0f}",
            f"{r.ratio_ids:.3f}",
            f"{r.http_per_s:,.0f}",
            f"{r.ratio_http:.3f}",
            f"{r.together_per_s:,.0f}",
            f"{r.together_ids_per_s:,.0f}",
            f"{fmt_mib(r.peak.before_mib)} → {fmt_mib(r.peak.peak_mib)}",
            f"{fmt_mib(r.server.before_mib)} → {fmt_mib(r.server.peak_mib)}",
        ]
        for r in results
    ]
    text = intro + _table(header, rows)
    for r in results:
        if r.database == "PostgreSQL":
            text += (
                f"\nTargets (PostgreSQL): at least {CAPTURE_TARGET_PER_S:,} events/s on this "
                f"machine, with {STREAMS} capturing processes at once: {r.together_per_s:,.0f} "
                f"without eventIDs, {r.together_ids_per_s:,.0f} with — "
                f"{_met(min(r.together_per_s, r.together_ids_per_s) >= CAPTURE_TARGET_PER_S)}; "
                "one process alone "
                f"{r.service_per_s:,.0f} without eventIDs, {r.service_ids_per_s:,.0f} with "
                "(one Python thread and one backend: see the ceiling below); "
                f"at least {CAPTURE_TARGET_RATIO:.2f} of the raw rate: "
                f"{min(r.ratio, r.ratio_ids):.2f} — "
                f"{_met(min(r.ratio, r.ratio_ids) >= CAPTURE_TARGET_RATIO)}.\n"
            )
    split_header = [
        "database",
        "validate",
        "CBV event hash",
        "identifier and link rows",
        "event row and JSON",
        "sum",
        "capture (1e6 / events/s)",
        "storage and the rest",
    ]
    split_rows = [
        [
            r.database,
            f"{r.split.validate:.1f}",
            f"{r.split.event_hash:.1f}",
            f"{r.split.index_rows:.1f}",
            f"{r.split.event_row:.1f}",
            f"{r.split.total:.1f}",
            f"{1e6 / r.service_per_s:.1f}",
            f"{1e6 / r.service_per_s - r.split.total:.1f}",
        ]
        for r in results
    ]
    text += (
        "\nWhere an event's time goes, in µs per event: capture's steps run one after the other "
        "over fresh events in the benchmark process, without a database (the storage steps "
        "build the same values as `_store`), next to capture's own time per event (without "
        "eventIDs). On PostgreSQL, storage overlaps the building of the rows: the server inserts "
        "while the next rows are built.\n\n" + _table(split_header, split_rows)
    )
    cpu_header = [
        "database",
        "capture process (µs CPU/event)",
        "PostgreSQL server (µs CPU/event)",
        "sum",
        f"ceiling on {CORES} cores (events/s)",
        "capture (events/s)",
        "capture / ceiling",
    ]
    cpu_rows = [
        [
            r.database,
            f"{r.cpu.client_us:.1f}",
            f"{r.cpu.server_us:.1f}",
            f"{r.cpu.client_us + r.cpu.server_us:.1f}",
            f"{r.cpu.ceiling_per_s:,.0f}",
            f"{r.service_per_s:,.0f}",
            f"{r.service_per_s / r.cpu.ceiling_per_s:.2f}",
        ]
        for r in results
    ]
    text += (
        "\nWhat an event costs the machine: CPU time per event of the capture runs without "
        "eventIDs (median), of the capturing process (`time.process_time`, the hashing, "
        "validation, row building and the driver, system time included) and of the PostgreSQL "
        "backends serving it (utime + stime from /proc). The ceiling is the rate if the "
        f"machine's {CORES} cores did nothing but this work and the server worked exactly while "
        "the capturing process did: each of the two uses at most one core (one Python thread, "
        "one backend process), together at most all of them. No scheduling of the same work "
        "beats it; only less work per event does. On SQLite the database runs inside the "
        "capturing process, so its ceiling is one core's.\n\n" + _table(cpu_header, cpu_rows)
    )
    return text


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def trace_section(results: list[TraceResult], loads: dict[tuple[str, str], Loaded]) -> str:
    intro = (
        "## 4. Trace latency\n\n"
        "Datasets of the generator (`bench/chains.py`, 13 events per farm and harvest round, "
        "7,700 farms in the full datasets), loaded by `bench/load.py`: the parties registered "
        "through the services, the events bulk-loaded with capture's own row building (event "
        "hash, canonical identifiers, index and link rows) but written by COPY (PostgreSQL) or "
        "executemany (SQLite) in transactions of 20,000 events, with the event tables' "
        "secondary indexes, unique constraint and foreign keys dropped during the load and "
        "recreated after it, then VACUUM ANALYZE — no validation and no duplicate check. A "
        "loaded dataset is kept (PostgreSQL database `txng_bench_<name>`, SQLite file "
        "`var/bench/<name>.sqlite3`) and reused by later runs; the load rate is from the run "
        "that loaded it. Figure: `txng.trace.engine.trace(direction=both, "
        f"max_depth={MAX_DEPTH})` as a provincial administrator, from the box lot of a random "
        "harvest (back to the farm's harvest lot, forward through the boxes, the pallet and the "
        "processor's lot to the retailer), one session per trace, in a fresh process, after 5 "
        "warm-up traces. Baseline: one indexed lookup of the events naming the same identifier "
        "(`epcis_event_ident` ⋈ `epcis_event`), the unit a trace is made of. Answer: median "
        "nodes, edges and events of a trace; RSS of the tracing process.\n\n"
    )
    header = [
        "database",
        "dataset",
        "events",
        "load: events/s (rows/s), time",
        "baseline lookup p50 / p95 (ms)",
        "trace p50 (ms)",
        "trace p95 (ms)",
        "ratio p50 trace / lookup",
        "answer: nodes / edges / events",
        "p95 per answer node (ms)",
        "RSS before → peak (MiB)",
    ]
    rows = []
    for r in results:
        loaded = loads[(r.database, r.dataset)]
        when = f"loaded {loaded.loaded_at}" if loaded.reused else "loaded in this run"
        rows.append(
            [
                r.database,
                r.dataset,
                f"{r.events:,}",
                f"{loaded.events_per_s:,.0f} ({loaded.rows_per_s:,.0f}), "
                f"{_minutes(loaded.load_s)} + {_minutes(loaded.index_s)} indexing; {when}",
                f"{r.lookup_p50_ms:.2f} / {r.lookup_p95_ms:.2f}",
                f"{r.trace_p50_ms:.1f}",
                f"{r.trace_p95_ms:.1f}",
                f"{r.ratio:.0f}",
                f"{r.nodes:.0f} / {r.edges:.0f} / {r.trace_events:.0f}",
                f"{r.trace_p95_ms / max(r.nodes, 1):.2f}",
                f"{fmt_mib(r.before_mib)} → {fmt_mib(r.peak_mib)}",
            ]
        )
    text = intro + _table(header, rows)
    largest = max(
        (r for r in results if r.database == "PostgreSQL"), key=lambda r: r.events, default=None
    )
    if largest is not None and largest.events >= 10_000_000:
        verdict = _met(largest.trace_p95_ms < TRACE_TARGET_P95_MS)
        text += (
            f"\nTarget (PostgreSQL, 10M events): p95 under {TRACE_TARGET_P95_MS:.0f} ms — "
            f"{largest.trace_p95_ms:.1f} ms: {verdict}.\n"
        )
    else:
        text += (
            f"\nTarget (PostgreSQL, 10M events): p95 under {TRACE_TARGET_P95_MS:.0f} ms — not "
            "measured by this command (`python -m bench.run --only trace --datasets 10m`).\n"
        )
    text += (
        "Growth with size: compare *p95 per answer node* between datasets; the answer has the "
        "same size at every scale here, so the latency itself should stay flat.\n"
    )
    return text


def recall_section(results: list[RecallResult]) -> str:
    intro = (
        "## 5. Recall spreadsheet\n\n"
        "One harvest lot whose downstream holds the given number of serialised boxes (the "
        "generator with one farm, `boxes=N`: the lot becomes N boxes on one pallet, then the "
        "processor's lot), bulk-loaded like benchmark 4 into its own database. Figure: "
        '`txng.trace.recall.export(fmt="xlsx")` as a provincial administrator (the forward '
        "trace, the CTE rows and the scope sheet listing every item), in a fresh process. "
        "Baseline: xlsxwriter alone writing sheets of the same size (rows × columns of the CTE "
        "sheet, one row per item in the scope sheet) in the same constant-memory mode.\n\n"
    )
    header = [
        "database",
        "downstream items",
        "CTE rows",
        "baseline: xlsxwriter alone (s)",
        "recall export (s)",
        "ratio recall / baseline",
        "RSS before → peak (MiB)",
    ]
    rows = [
        [
            r.database,
            f"{r.items:,}",
            f"{r.rows:,}",
            f"{r.baseline_s:.2f}",
            f"{r.recall_s:.2f}",
            f"{r.ratio:.1f}",
            f"{fmt_mib(r.before_mib)} → {fmt_mib(r.peak_mib)}",
        ]
        for r in results
    ]
    text = intro + _table(header, rows)
    big = [r for r in results if r.items >= 100_000]
    if big:
        text += (
            f"\nTarget: under {RECALL_TARGET_S:.0f} s for 100,000 downstream items — "
            + "; ".join(
                f"{r.database} {r.recall_s:.1f} s: {_met(r.recall_s < RECALL_TARGET_S)}"
                for r in big
            )
            + ".\n"
        )
    return text


_SECTION = re.compile(r"^## (\d+)\. ", re.MULTILINE)
_DATE_ROW = re.compile(r"^\| date \| ([^|]+) \|", re.MULTILINE)
_STAMP = "_Measured "


def stamp(section: str, when: str, command: str) -> str:
    """The section with a line under its heading saying when and by what it was measured."""
    heading, _, rest = section.partition("\n")
    return f"{heading}\n\n{_STAMP}{when} by `{command}`._\n{rest}"


def earlier_sections(markdown: str) -> dict[int, str]:
    """The numbered sections of an earlier BENCHMARKS.md, each stamped with its date."""
    date = _DATE_ROW.search(markdown)
    when = date.group(1).strip() if date else "in an earlier run"
    out: dict[int, str] = {}
    for part in re.split(r"(?m)^(?=## )", markdown):
        match = _SECTION.match(part)
        if match is None:
            continue
        text = part.rstrip() + "\n"
        if _STAMP not in text.split("\n\n", 2)[1]:
            text = stamp(text, when, "python -m bench.run")
        out[int(match.group(1))] = text
    return out


HOW_TO_RUN = """\
## How to run

```
python -m bench.run --quick          # about a minute: every benchmark, small sizes
python -m bench.run                  # full; the first run loads the 1M and 10M datasets
python -m bench.run --only capture   # some benchmarks: declare, api, capture, trace, recall
python -m bench.run --datasets 1m    # trace datasets to use (50k, 1m, 10m)
python -m bench.run --sqlite-10m     # also trace 10M events on SQLite (about an hour more)
```

SQLite runs on a temporary file, PostgreSQL (when a server answers at `TXNG_BENCH_POSTGRES`,
default `postgresql://postgres@127.0.0.1:5432/postgres`) on a scratch database `txng_bench`,
both dropped afterwards. The trace datasets are kept (`txng_bench_<name>`,
`var/bench/<name>.sqlite3`) and reused while the generator's plan is unchanged; drop them to
load again. Sections a command does not run (`--only`) are kept from the previous file with
their own date. On this 2-core machine, with the datasets loaded, the full run takes about 5
minutes and `--only capture` under 2; loading takes about 5 minutes per database for 1M events
and, extrapolated, about 50 minutes (and some 30 GB) for 10M on PostgreSQL. 10M events on
SQLite do not fit that budget and are not run by default. The machine is shared: compare the
ratios, and the load average noted under *Machine*.
"""


def render(
    facts: list[tuple[str, str]],
    command: str,
    sections: dict[int, str],
    earlier: str,
    notes: list[str],
) -> str:
    """The whole file: this run's sections, stamped, and the earlier file's other sections."""
    when = facts[0][1]
    merged = earlier_sections(earlier)
    merged.update({n: stamp(text, when, command) for n, text in sections.items()})
    parts = [
        "# Benchmarks\n\n"
        "Generated by `python -m bench.run` (see *How to run*); do not edit by hand, rerun it. "
        "Figures are ratios to a baseline measured in the same run (see *How to read*). Each "
        "section says when and by which command it was measured; the last command was:\n\n"
        f"```\n{command}\n```\n\n## Machine (last run)\n\n"
        + _table(["", ""], [list(f) for f in facts]),
        *([" ".join(notes) + "\n"] if notes else []),
        *(merged[n] for n in sorted(merged)),
        HOW_TO_RUN,
        HOW_TO_READ,
    ]
    return "\n".join(parts)
