"""Benchmarks 4 and 5: trace latency on big datasets, and the recall spreadsheet of a big lot.

Each measurement runs in a fresh process (`python -m bench.trace ...`), so that its peak memory
(VmHWM) is its own. The figures go back to the parent as one line of JSON.

Trace: a backward and forward trace (``direction=both``, ``max_depth=10``) from the box lot of a
random harvest (the packing house's lot: back to the farm's harvest lot, forward through the
boxes, the pallet, the processor's lot, to the retailer), as a provincial administrator (every
event visible). Baseline: one indexed lookup of the events naming the same identifier
(``epcis_event_ident`` joined to ``epcis_event``), the unit a trace is made of.

Recall: `txng.trace.recall.export` of a harvest lot with N downstream boxes to xlsx. Baseline:
xlsxwriter writing a sheet of the same number of rows and columns (constant text), the same
constant-memory mode, i.e. the spreadsheet library alone.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy import text

from bench import chains
from bench.memory import peak_rss_mib, rss_mib
from bench.world import ADMIN
from txng.db import make_engine, make_sessionmaker
from txng.epcis import identifiers

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_DEPTH = 10
WARMUP = 5
TIMEOUT_S = 3600
_LOOKUP = text(
    "SELECT e.id, e.event_time, e.biz_step FROM epcis_event_ident i "
    "JOIN epcis_event e ON e.id = i.event_pk WHERE i.ident = :ident"
)


@dataclass(frozen=True)
class TraceResult:
    database: str
    dataset: str
    events: int
    samples: int
    lookup_p50_ms: float
    lookup_p95_ms: float
    trace_p50_ms: float
    trace_p95_ms: float
    nodes: float  # median answer size
    edges: float
    trace_events: float
    truncated: int  # traces that hit a limit
    before_mib: float | None
    peak_mib: float | None

    @property
    def ratio(self) -> float:
        return self.trace_p50_ms / self.lookup_p50_ms


@dataclass(frozen=True)
class RecallResult:
    database: str
    items: int  # downstream serialised items in the recall
    rows: int  # CTE rows of the spreadsheet
    baseline_s: float
    recall_s: float
    before_mib: float | None
    peak_mib: float | None

    @property
    def ratio(self) -> float:
        return self.recall_s / self.baseline_s


def trace_starts(plan: chains.Plan, samples: int, seed: int = 20261122) -> list[str]:
    """Canonical box lots of random (farm, round) pairs of the plan."""
    rng = random.Random(seed)
    starts: list[str] = []
    for _ in range(samples):
        farm, round_ = rng.randrange(plan.farms), rng.randrange(plan.rounds)
        starts.append(identifiers.canonical_id(chains.box_lot(plan, farm, round_)))
    return starts


def _quantile_ms(samples: list[float], q: int) -> float:
    """The q-th percentile (q in 1..99), in ms."""
    if len(samples) == 1:
        return samples[0] * 1000
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def _run_traces(url: str, starts: list[str]) -> dict[str, Any]:
    from txng.trace import engine as trace_engine

    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        before = rss_mib()
        lookups: list[float] = []
        traces: list[float] = []
        nodes: list[int] = []
        edges: list[int] = []
        events: list[int] = []
        truncated = 0
        for i, start in enumerate(starts):
            with factory() as session:
                t0 = time.perf_counter()
                found = session.execute(_LOOKUP, {"ident": start}).all()
                t1 = time.perf_counter()
                result = trace_engine.trace(
                    session, ADMIN, start, direction=trace_engine.BOTH, max_depth=MAX_DEPTH
                )
                t2 = time.perf_counter()
            if not found or not result.found:
                raise RuntimeError(f"nothing found for {start}")
            if i < WARMUP:
                continue
            lookups.append(t1 - t0)
            traces.append(t2 - t1)
            nodes.append(len(result.nodes))
            edges.append(len(result.edges))
            events.append(len(result.events))
            truncated += result.truncated
    finally:
        engine.dispose()
    return {
        "lookup_p50_ms": _quantile_ms(lookups, 50),
        "lookup_p95_ms": _quantile_ms(lookups, 95),
        "trace_p50_ms": _quantile_ms(traces, 50),
        "trace_p95_ms": _quantile_ms(traces, 95),
        "nodes": statistics.median(nodes),
        "edges": statistics.median(edges),
        "trace_events": statistics.median(events),
        "truncated": truncated,
        "before_mib": before,
        "peak_mib": peak_rss_mib(),
    }


def _xlsx_baseline(path: Path, rows: int, columns: int, scope_rows: int) -> float:
    """Seconds for xlsxwriter alone to write sheets of the same size as the recall's."""
    start = time.perf_counter()
    options = {"constant_memory": True, "tmpdir": str(path.parent)}
    workbook = xlsxwriter.Workbook(str(path), options)
    try:
        sheet = workbook.add_worksheet("CTE")
        for r in range(rows + 1):
            for c in range(columns):
                sheet.write_string(r, c, f"https://id.gs1.org/01/08931000010019/10/P{c}")
        scope = workbook.add_worksheet("Scope")
        for r in range(scope_rows + 1):
            for c in range(3):
                scope.write_string(r, c, f"https://id.gs1.org/01/08931000010019/21/{r}")
    finally:
        workbook.close()
    return time.perf_counter() - start


def _run_recall(url: str, lot: str) -> dict[str, Any]:
    from txng.trace import recall

    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        before = rss_mib()
        with tempfile.TemporaryDirectory(prefix="txng-recall-") as tmp:
            path = Path(tmp) / "recall.xlsx"
            with factory() as session:
                start = time.perf_counter()
                exported = recall.export(session, principal=ADMIN, lot=lot, fmt="xlsx", path=path)
                recall_s = time.perf_counter() - start
                session.rollback()  # the audit entry: not kept
            if exported is None or exported.truncated:
                raise RuntimeError(f"recall of {lot}: {exported}")
            peak = peak_rss_mib()
            scope_rows = exported.items + 10
            baseline_s = _xlsx_baseline(
                Path(tmp) / "baseline.xlsx", exported.rows, len(recall.COLUMNS), scope_rows
            )
    finally:
        engine.dispose()
    return {
        "items": exported.items,
        "rows": exported.rows,
        "recall_s": recall_s,
        "baseline_s": baseline_s,
        "before_mib": before,
        "peak_mib": peak,
    }


def _in_subprocess(*args: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.trace", *args]
    done = subprocess.run(  # noqa: S603
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed:\n{done.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def measure_traces(
    database: str, dataset: str, url: str, plan: chains.Plan, events: int, samples: int
) -> TraceResult:
    starts = trace_starts(plan, samples + WARMUP)
    data = _in_subprocess("traces", url, json.dumps(starts))
    return TraceResult(database=database, dataset=dataset, events=events, samples=samples, **data)


def measure_recall(database: str, url: str, plan: chains.Plan) -> RecallResult:
    lot = identifiers.canonical_id(chains.harvest_lot(plan, 0, 0))
    data = _in_subprocess("recall", url, lot)
    return RecallResult(database=database, **data)


def main(argv: list[str]) -> None:
    mode, url, arg = argv
    if mode == "traces":
        out = _run_traces(url, json.loads(arg))
    elif mode == "recall":
        out = _run_recall(url, arg)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
