"""`python -m bench.run [--quick] [--only …]`: run the benchmarks and write docs/BENCHMARKS.md.

SQLite (a temp file) always; PostgreSQL (scratch database `txng_bench`, created and dropped) when
a server answers at TXNG_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
The trace datasets are kept between runs (see bench/load.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import chains, load, report
from bench.api import ApiResult, run_api
from bench.capture import CaptureResult, run_capture
from bench.consumer import ConsumerResult, run_consumer
from bench.consumer import section as consumer_section
from bench.ingest import IngestResult, run_ingest
from bench.ledger import LedgerResult, run_ledger
from bench.ledger import section as ledger_section
from bench.load import Dataset, Loaded
from bench.stamps import StampsResult, run_stamps
from bench.stamps import section as stamps_section
from bench.trace import RecallResult, TraceResult, measure_recall, measure_traces
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
BENCHMARKS = ("declare", "api", "capture", "trace", "recall", "stamps", "consumer", "ledger")
DATASETS = {
    "50k": chains.Plan(farms=385, rounds=10),
    "1m": chains.Plan(farms=7_700, rounds=10),
    "10m": chains.Plan(farms=7_700, rounds=100),
}
SQLITE_DEFAULT_MAX = 1_100_000  # events: bigger datasets on SQLite only with --sqlite-10m


@dataclass(frozen=True)
class Plan:
    products: int
    batch: int
    api_products: int
    requests: int
    warmup: int
    repeats: int
    capture_events: int  # per run, in documents of 500
    capture_repeats: int
    datasets: tuple[str, ...]
    trace_samples: int
    recall_boxes: int


FULL = Plan(
    products=2000,
    batch=100,
    api_products=200,
    requests=500,
    warmup=50,
    repeats=3,
    capture_events=10_000,
    capture_repeats=3,
    datasets=("1m", "10m"),
    trace_samples=200,
    recall_boxes=100_000,
)
QUICK = Plan(
    products=300,
    batch=100,
    api_products=200,
    requests=100,
    warmup=20,
    repeats=1,
    capture_events=2_000,
    capture_repeats=1,
    datasets=("50k",),
    trace_samples=30,
    recall_boxes=10_000,
)


@dataclass
class Results:
    ingest: list[IngestResult] = field(default_factory=list)
    api: list[ApiResult] = field(default_factory=list)
    capture: list[CaptureResult] = field(default_factory=list)
    traces: list[TraceResult] = field(default_factory=list)
    loads: dict[tuple[str, str], Loaded] = field(default_factory=dict)
    recall: list[RecallResult] = field(default_factory=list)
    stamps: list[StampsResult] = field(default_factory=list)
    consumer: list[ConsumerResult] = field(default_factory=list)
    ledger: list[LedgerResult] = field(default_factory=list)


def _names(text: str, allowed: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown: {', '.join(unknown)} (use {', '.join(allowed)})"
        )
    return names


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (smoke check)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown to write")
    parser.add_argument(
        "--only",
        type=lambda t: _names(t, BENCHMARKS),
        default=BENCHMARKS,
        help=f"comma-separated benchmarks to run ({', '.join(BENCHMARKS)}); the others keep "
        "their section of the previous file",
    )
    parser.add_argument(
        "--datasets",
        type=lambda t: _names(t, list(DATASETS)),
        default=None,
        help=f"trace datasets ({', '.join(DATASETS)}); default 1m,10m (--quick: 50k)",
    )
    parser.add_argument(
        "--sqlite-10m", action="store_true", help="trace datasets above 1M events on SQLite too"
    )
    return parser.parse_args(argv)


def _recall_dataset(boxes: int) -> Dataset:
    plan = chains.Plan(farms=1, packers=1, processors=1, distributors=1, retailers=1, boxes=boxes)
    return Dataset(f"recall_{boxes}", plan)


def _run_backend(
    backend: Backend,
    plan: Plan,
    args: argparse.Namespace,
    workdir: Path,
    results: Results,
    log: Callable[[str], None],
) -> None:
    name = backend.name
    if "declare" in args.only:
        log(f"[{name}] product declaration: {plan.products} x {plan.repeats} ...")
        with scratch_database(backend, workdir, "ingest") as url:
            results.ingest.append(
                run_ingest(
                    name, url, products=plan.products, batch=plan.batch, repeats=plan.repeats
                )
            )
    if "api" in args.only:
        log(f"[{name}] API reads: {plan.requests} x 2 endpoints x {plan.repeats} ...")
        with scratch_database(backend, workdir, "api") as url:
            results.api.append(
                run_api(
                    name,
                    url,
                    workdir / f"var-{name.lower()}",
                    products=plan.api_products,
                    requests=plan.requests,
                    warmup=plan.warmup,
                    repeats=plan.repeats,
                )
            )
    if "capture" in args.only:
        log(f"[{name}] EPCIS capture: {plan.capture_events:,} events x {plan.capture_repeats} ...")
        with scratch_database(backend, workdir, "capture") as url:
            results.capture.append(
                run_capture(
                    name,
                    url,
                    workdir / f"var-capture-{name.lower()}",
                    events=plan.capture_events,
                    repeats=plan.capture_repeats,
                )
            )
    if "trace" in args.only:
        for key in args.datasets or plan.datasets:
            dataset = Dataset(key, DATASETS[key])
            if backend == SQLITE and dataset.events > SQLITE_DEFAULT_MAX and not args.sqlite_10m:
                log(f"[{name}] trace {key}: skipped (--sqlite-10m to run it)")
                continue
            loaded = load.ensure(backend, dataset, log=log)
            results.loads[(name, key)] = loaded
            log(f"[{name}] trace {key}: {plan.trace_samples} traces ...")
            results.traces.append(
                measure_traces(
                    name, key, loaded.url, dataset.plan, loaded.events, plan.trace_samples
                )
            )
    if "recall" in args.only:
        dataset = _recall_dataset(plan.recall_boxes)
        loaded = load.ensure(backend, dataset, log=log)
        log(f"[{name}] recall of a lot with {plan.recall_boxes:,} boxes ...")
        results.recall.append(measure_recall(name, loaded.url, dataset.plan))
    if "stamps" in args.only:
        count = 100_000 if args.quick else 1_000_000
        log(f"[{name}] stamps: {count:,} generated and stored ...")
        with scratch_database(backend, workdir, "stamps") as url:
            results.stamps.append(run_stamps(name, url, stamps=count))
    if "ledger" in args.only:
        leaves = 50_000 if args.quick else 1_000_000
        log(f"[{name}] ledger: {leaves:,} leaves, appends and proofs ...")
        with scratch_database(backend, workdir, "ledger") as url:
            results.ledger.append(
                run_ledger(name, url, leaves=leaves, append=5_000 if args.quick else 50_000)
            )
    if "consumer" in args.only:
        seconds, rounds = (5.0, 1) if args.quick else (5.0, 5)
        log(f"[{name}] consumer page: 64 connections, {rounds} x {seconds:.0f} s per endpoint ...")
        with scratch_database(backend, workdir, "consumer") as url:
            results.consumer.append(
                run_consumer(
                    name,
                    url,
                    workdir / f"var-consumer-{name.lower()}",
                    stamps=1_000 if args.quick else 10_000,
                    seconds=seconds,
                    warmup=1.0 if args.quick else 3.0,
                    rounds=rounds,
                )
            )


def _print_summary(results: Results) -> None:
    for i in results.ingest:
        print(
            f"{i.database:10} declare: raw {i.raw_per_s:8,.0f}/s  service "
            f"{i.service_per_s:8,.0f}/s  ratio {i.ratio:.3f}"
        )
    for a in results.api:
        print(
            f"{a.database:10} read:    healthz {a.healthz.per_s:6,.0f}/s "
            f"(p50 {a.healthz.p50_ms:.2f} ms)  products {a.listing.per_s:6,.0f}/s "
            f"(p50 {a.listing.p50_ms:.2f} ms, p95 {a.listing.p95_ms:.2f} ms)  "
            f"ratio {a.ratio:.3f}"
        )
    for c in results.capture:
        print(
            f"{c.database:10} capture: raw {c.raw_per_s:7,.0f} ev/s  service "
            f"{c.service_per_s:7,.0f} ({c.ratio:.3f})  with IDs {c.service_ids_per_s:7,.0f} "
            f"({c.ratio_ids:.3f})  HTTP {c.http_per_s:7,.0f} ({c.ratio_http:.3f})"
        )
    for t in results.traces:
        print(
            f"{t.database:10} trace {t.dataset:>4}: p50 {t.trace_p50_ms:6.1f} ms  p95 "
            f"{t.trace_p95_ms:6.1f} ms  (lookup p50 {t.lookup_p50_ms:.2f} ms, "
            f"{t.nodes:.0f} nodes)"
        )
    for r in results.recall:
        print(
            f"{r.database:10} recall: {r.items:,} items in {r.recall_s:.2f} s "
            f"(xlsxwriter alone {r.baseline_s:.2f} s)"
        )


def _print_stamps(results: Results) -> None:
    for s in results.stamps:
        print(
            f"{s.database:10} stamps: {s.stamps:,} in {s.service_s:.1f} s "
            f"({s.per_s:,.0f}/s; raw INSERT {s.raw_s:.1f} s)"
        )


def _sections(results: Results) -> dict[int, str]:
    out: dict[int, str] = {}
    if results.ingest:
        out[1] = report.ingest_section(results.ingest)
    if results.api:
        out[2] = report.api_section(results.api)
    if results.capture:
        out[3] = report.capture_section(results.capture)
    if results.traces:
        out[4] = report.trace_section(results.traces, results.loads)
    if results.recall:
        out[5] = report.recall_section(results.recall)
    if results.stamps:
        out[7] = stamps_section(results.stamps)
    if results.consumer:
        out[6] = consumer_section(results.consumer)
    if results.ledger:
        out[8] = ledger_section(results.ledger)
    return out


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
    notes.append(f"Load average (1 min) when the run started: {os.getloadavg()[0]:.2f}.")
    results = Results()
    with tempfile.TemporaryDirectory(prefix="txng-bench-") as tmp:
        for backend in backends:
            _run_backend(backend, plan, args, Path(tmp), results, lambda m: print(m, flush=True))
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    if args.only != BENCHMARKS:
        command += " --only " + ",".join(args.only)
    if args.datasets:
        command += " --datasets " + ",".join(args.datasets)
    if args.sqlite_10m:
        command += " --sqlite-10m"
    earlier = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    text = report.render(report.machine(pg_version), command, _sections(results), earlier, notes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    _print_summary(results)
    _print_stamps(results)
    for c in results.consumer:
        print(
            f"{c.database:10} consumer: healthz {c.bare.per_s:6,.0f}/s  page "
            f"{c.page.per_s:6,.0f}/s (p50 {c.page.p50_ms:.1f} ms, p99 {c.page.p99_ms:.1f} ms)  "
            f"ratio {c.ratio:.2f}"
        )
    print(f"wrote {args.output} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
