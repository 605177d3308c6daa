"""Benchmark 3: EPCIS capture (service and HTTP) vs. a raw COPY / executemany of the same rows.

The events come from the supply-chain generator (`bench.chains`): farms → packing houses →
processors → distributors → retailers, repacked into documents of 500 events captured by one
organisation. Every run gets events of its own harvest round, so no run meets identifiers that
an earlier run put in the in-process caches, and no event is a duplicate of an earlier one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench import chains, rows
from bench.api import REPO_ROOT, server_process
from bench.memory import peak_rss_mib, rss_mib
from bench.world import ADMIN, organisation_input
from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.epcis import capture as capture_service
from txng.epcis import hashing, validate
from txng.epcis.timestamps import parse_timestamp
from txng.models import CaptureJob
from txng.registry import service as registry_service

CORES = os.cpu_count() or 1
DOCUMENT_EVENTS = 500
PEAK_EVENTS = 10_000  # the default capture limit: the largest document one capture takes
CAPTURE_PATH = "/epcis/capture"
HTTP_TIMEOUT_S = 300.0
Document = dict[str, Any]


@dataclass(frozen=True)
class Split:
    """Microseconds per event of each step of capture, in process, without the database."""

    validate: float
    event_hash: float
    index_rows: float  # canonical identifiers, index and link rows
    event_row: float  # columns and JSON of the event row

    @property
    def total(self) -> float:
        return self.validate + self.event_hash + self.index_rows + self.event_row


@dataclass(frozen=True)
class Peak:
    """Resident memory (MiB) of a process before a step and at its highest during it."""

    before_mib: float | None
    peak_mib: float | None


@dataclass(frozen=True)
class Cpu:
    """CPU time per event (µs) of a capture run: the capturing process and the database server."""

    client_us: float
    server_us: float  # the PostgreSQL backends (0 on SQLite: it runs in the client)

    @property
    def ceiling_per_s(self) -> float:
        """Events/s if the machine did nothing but this work, perfectly overlapped: the
        capturing process (one thread of Python) and the server backend (one process) each
        use at most one core, and together at most all of them."""
        limits = [1e6 / self.client_us, CORES * 1e6 / (self.client_us + self.server_us)]
        if self.server_us > 0:
            limits.append(1e6 / self.server_us)
        return min(limits)


@dataclass(frozen=True)
class CaptureResult:
    database: str
    events: int  # per timed run
    repeats: int
    idents_per_event: float
    links_per_event: float
    raw_per_s: float  # events/s, each with its index and link rows
    raw_rows_per_s: float  # rows/s of all three tables
    service_per_s: float  # without eventIDs (the event hash becomes the ID)
    service_ids_per_s: float  # with eventIDs
    http_per_s: float
    together_per_s: float  # STREAMS processes capturing at once (no eventIDs), all their events
    together_ids_per_s: float  # the same with eventIDs
    split: Split
    cpu: Cpu  # median of the runs without eventIDs
    peak: Peak  # one capture of PEAK_EVENTS events, in its own process
    server: Peak  # the uvicorn process: idle, then after every HTTP capture

    @property
    def ratio(self) -> float:
        return self.service_per_s / self.raw_per_s

    @property
    def ratio_ids(self) -> float:
        return self.service_ids_per_s / self.raw_per_s

    @property
    def ratio_http(self) -> float:
        return self.http_per_s / self.raw_per_s


# events -------------------------------------------------------------------------------------


def chain_runs(events: int, runs: int) -> list[list[dict[str, Any]]]:
    """`runs` lists of `events` events; list r is harvest round r of the same farms and
    parties, so the lists share places and parties but no lot, item, pallet or event."""
    farms = -(-events // chains.EVENTS_PER_FARM_ROUND)
    plan = chains.Plan(farms=farms, rounds=runs)
    out: list[list[dict[str, Any]]] = [[] for _ in range(runs)]
    for batch in chains.documents(plan):
        for event in batch.document["epcisBody"]["eventList"]:
            round_ = (datetime.fromisoformat(event["eventTime"]) - plan.start).days
            out[round_].append(event)
    return [run[:events] for run in out]


def with_event_ids(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"eventID": f"urn:uuid:{uuid.uuid4()}", **event} for event in events]


def documents(events: list[dict[str, Any]], size: int = DOCUMENT_EVENTS) -> list[Document]:
    return [chains.document(events[i : i + size]) for i in range(0, len(events), size)]


# the raw baseline ---------------------------------------------------------------------------


def _time_raw(engine: Engine, docs: list[rows.RawRows]) -> float:
    """Seconds to store the rows, one transaction per document (COPY or executemany)."""
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        postgres = engine.dialect.name == "postgresql"
        cursor = conn.cursor()
        start = time.perf_counter()
        for doc in docs:
            rows.write(cursor, doc, postgres=postgres)
            conn.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def _raw_rows(engine: Engine, docs: list[Document], world: _World) -> list[rows.RawRows]:
    """The rows capture would store for the documents, with ids taken beforehand."""
    count = sum(len(d["epcisBody"]["eventList"]) for d in docs)
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        ids = rows.next_event_ids(
            conn.cursor(), count, postgres=engine.dialect.name == "postgresql"
        )
        conn.commit()
    finally:
        raw.close()
    to_db = rows.to_db(engine)
    numbers = iter(ids)
    out: list[rows.RawRows] = []
    for doc in docs:
        built = rows.RawRows()
        built.add_document(
            numbers, doc, organisation_id=world.org_id, job_id=world.job_id, to_db=to_db
        )
        out.append(built)
    return out


# the service and the endpoint ---------------------------------------------------------------


@dataclass(frozen=True)
class _World:
    org_id: int
    principal: Principal
    api_key: str
    job_id: int  # the capture job the raw rows belong to


def _world(factory: sessionmaker[Session]) -> _World:
    with session_scope(factory) as session:
        org = registry_service.register_organisation(
            session, actor=ADMIN, data=organisation_input("HTX Vải thiều (EPCIS)")
        )
        _, key = accounts_service.create_api_key(
            session, actor=None, organisation_id=org.id, name="benchmark"
        )
        job = CaptureJob(
            capture_id=uuid.uuid4().hex, organisation_id=org.id, source="api", errors=[]
        )
        session.add(job)
        session.flush()
        principal = Principal(
            role=Role.ENTERPRISE_ADMIN, label="benchmark capture", organisation_id=org.id
        )
        return _World(org.id, principal, key, job.id)


def _time_service(
    factory: sessionmaker[Session], principal: Principal, docs: list[Document]
) -> float:
    return _run_service(factory, principal, docs)[0]


def _run_service(
    factory: sessionmaker[Session], principal: Principal, docs: list[Document]
) -> tuple[float, Cpu]:
    """Wall seconds of capturing the documents, and the CPU time per event it took."""
    database = factory.kw["bind"].url.database if _is_postgresql(factory) else None
    server_before = _server_cpu_s(database)
    client_before = time.process_time()
    start = time.perf_counter()
    for doc in docs:
        with session_scope(factory) as session:
            outcome = capture_service.capture(session, principal, doc)
            if outcome.errors or outcome.job.stored_count != len(doc["epcisBody"]["eventList"]):
                raise RuntimeError(f"capture failed: {outcome.errors[:3]}")
    wall = time.perf_counter() - start
    events = sum(len(d["epcisBody"]["eventList"]) for d in docs)
    client = time.process_time() - client_before
    server = _server_cpu_s(database) - server_before
    return wall, Cpu(client * 1e6 / events, server * 1e6 / events)


def _is_postgresql(factory: sessionmaker[Session]) -> bool:
    return bool(factory.kw["bind"].dialect.name == "postgresql")


def _server_cpu_s(database: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database`` (read from
    /proc: the server runs on this machine); 0 for SQLite."""
    if database is None:
        return 0.0
    ticks = 0
    marker = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres:") or marker not in command + b" ":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _time_http(client: httpx.Client, docs: list[Document]) -> float:
    bodies = [(json.dumps(d).encode(), len(d["epcisBody"]["eventList"])) for d in docs]
    start = time.perf_counter()
    for body, count in bodies:
        response = client.post(CAPTURE_PATH, content=body)
        if response.status_code != 202 or response.json().get("storedCount") != count:
            raise RuntimeError(f"POST {CAPTURE_PATH}: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - start


def measure_split(docs: list[Document]) -> Split:
    """Each step of capture over the same fresh events, in the order capture takes them."""
    events = [e for d in docs for e in d["epcisBody"]["eventList"]]
    namespaces = hashing.document_namespaces(docs[0].get("@context"))
    t0 = time.perf_counter()
    for doc in docs:
        validate.validate_document(doc)
    t1 = time.perf_counter()
    for event in events:
        hashing.event_hash(event, namespaces)
    t2 = time.perf_counter()
    for event in events:
        capture_service.index_rows(event)
        capture_service.link_rows(event, namespaces)
    t3 = time.perf_counter()
    for event in events:
        step = event.get("bizStep")
        (
            parse_timestamp(event["eventTime"]),
            capture_service.vocabulary_key("bizStep", step, namespaces) if step else None,
            rows.place_id(event, "readPoint"),
            rows.place_id(event, "bizLocation"),
            capture_service._json(event),  # as capture serialises the body (orjson)
        )
    t4 = time.perf_counter()
    per = 1e6 / len(events)
    return Split((t1 - t0) * per, (t2 - t1) * per, (t3 - t2) * per, (t4 - t3) * per)


# several capturing processes at once ---------------------------------------------------------

STREAMS = 2  # capturing processes at once: one per core, as `txng serve --workers 2` runs


def _stream(
    url: str, principal: Principal, docs: list[Document], ready: Any, out: Any
) -> None:  # pragma: no cover - runs in a child process
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        _time_service(factory, principal, docs[:1])  # connect and warm up outside the figure
        ready.wait()
        start = time.perf_counter()
        _time_service(factory, principal, docs[1:])
        out.put((start, time.perf_counter()))
    finally:
        engine.dispose()


def concurrent_rate(url: str, principal: Principal, runs: list[list[dict[str, Any]]]) -> float:
    """Events/s of ``len(runs)`` processes capturing at the same time, each its own run (its
    first document is a warm-up): all events after the warm-ups over the time from the first
    start to the last end."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(len(runs))
    out = context.Queue()
    streams = [documents(run) for run in runs]
    procs = [
        context.Process(target=_stream, args=(url, principal, docs, ready, out)) for docs in streams
    ]
    for proc in procs:
        proc.start()
    try:
        spans = [out.get(timeout=HTTP_TIMEOUT_S) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=60)
    if any(proc.exitcode != 0 for proc in procs):
        raise RuntimeError("a capturing process failed")
    events = sum(len(d["epcisBody"]["eventList"]) for docs in streams for d in docs[1:])
    return events / (max(end for _, end in spans) - min(start for start, _ in spans))


# peak memory of one large capture, in its own process -----------------------------------------


def peak_of_capture(url: str, org_id: int, events: int) -> Peak:
    """RSS of a fresh process once it holds a document of `events` events, and its peak while
    capturing it (`python -m bench.capture URL ORG_ID EVENTS`)."""
    cmd = [sys.executable, "-m", "bench.capture", url, str(org_id), str(events)]
    done = subprocess.run(  # noqa: S603
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=1800
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Peak(data["before_mib"], data["peak_mib"])


def _capture_in_this_process(url: str, org_id: int, events: int) -> None:
    doc = documents(chain_runs(events, 1)[0], size=events)[0]
    # the events of round 0 are stored already by the timed runs: give them new times
    for event in doc["epcisBody"]["eventList"]:
        moment = datetime.fromisoformat(event["eventTime"]) - timedelta(days=400)
        event["eventTime"] = moment.isoformat(timespec="milliseconds")
    principal = Principal(role=Role.ENTERPRISE_ADMIN, label="peak", organisation_id=org_id)
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:  # connect and warm up outside the figure
            session.execute(text("SELECT 1"))
        before = rss_mib()
        with session_scope(factory) as session:
            outcome = capture_service.capture(session, principal, doc)
            if outcome.errors or outcome.job.stored_count != events:
                raise RuntimeError(f"capture failed: {outcome.errors[:3]}")
    finally:
        engine.dispose()
    print(json.dumps({"before_mib": before, "peak_mib": peak_rss_mib()}))


# the benchmark ------------------------------------------------------------------------------


def _median_rate(events: int, seconds: list[float]) -> float:
    return statistics.median(events / s for s in seconds)


def _runs(plan_events: int, repeats: int) -> Iterator[list[dict[str, Any]]]:
    # per repeat: raw, service, service with IDs, STREAMS concurrent ones without IDs and
    # STREAMS with; then HTTP, the split and a warm-up
    yield from chain_runs(plan_events, (3 + 2 * STREAMS) * repeats + 3)


def run_capture(
    database: str, url: str, data_dir: Path, *, events: int, repeats: int
) -> CaptureResult:
    """Alternate raw, service and service-with-eventIDs runs; then HTTP; report medians."""
    runs = list(_runs(events, repeats))
    warmup, split_run, http_run = runs.pop(), runs.pop(), runs.pop()
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        world = _world(factory)
        _time_service(factory, world.principal, documents(warmup[:DOCUMENT_EVENTS]))
        split = measure_split(documents(split_run))
        raw_s: list[float] = []
        service_s: list[float] = []
        cpus: list[Cpu] = []
        ids_s: list[float] = []
        together: list[float] = []
        together_ids: list[float] = []
        total_rows = idents = links = 0
        per_repeat = 3 + 2 * STREAMS
        for r in range(repeats):
            base = per_repeat * r
            raw_docs = _raw_rows(engine, documents(runs[base]), world)
            total_rows = sum(d.count for d in raw_docs)
            idents = sum(len(d.idents) for d in raw_docs)
            links = sum(len(d.links) for d in raw_docs)
            raw_s.append(_time_raw(engine, raw_docs))
            wall, cpu = _run_service(factory, world.principal, documents(runs[base + 1]))
            service_s.append(wall)
            cpus.append(cpu)
            ids_docs = documents(with_event_ids(runs[base + 2]))
            ids_s.append(_time_service(factory, world.principal, ids_docs))
            streams = runs[base + 3 : base + 3 + STREAMS]
            together.append(concurrent_rate(url, world.principal, streams))
            streams = runs[base + 3 + STREAMS : base + 3 + 2 * STREAMS]
            streams = [with_event_ids(run) for run in streams]
            together_ids.append(concurrent_rate(url, world.principal, streams))
        headers = {
            "Authorization": f"Bearer {world.api_key}",
            "Content-Type": "application/ld+json",
        }
        with server_process(url, data_dir) as server:
            idle = rss_mib(server.pid)
            with httpx.Client(
                base_url=server.base_url, headers=headers, timeout=HTTP_TIMEOUT_S
            ) as client:
                http_s = _time_http(client, documents(http_run))
            server_peak = peak_rss_mib(server.pid)
        peak = peak_of_capture(url, world.org_id, PEAK_EVENTS)
    finally:
        engine.dispose()
    rows_per_event = total_rows / events
    return CaptureResult(
        database=database,
        events=events,
        repeats=repeats,
        idents_per_event=idents / events,
        links_per_event=links / events,
        raw_per_s=_median_rate(events, raw_s),
        raw_rows_per_s=_median_rate(events, raw_s) * rows_per_event,
        service_per_s=_median_rate(events, service_s),
        service_ids_per_s=_median_rate(events, ids_s),
        http_per_s=events / http_s,
        together_per_s=statistics.median(together),
        together_ids_per_s=statistics.median(together_ids),
        split=split,
        cpu=Cpu(
            statistics.median(c.client_us for c in cpus),
            statistics.median(c.server_us for c in cpus),
        ),
        peak=peak,
        server=Peak(idle, server_peak),
    )


if __name__ == "__main__":
    _url, _org, _events = sys.argv[1:]
    _capture_in_this_process(_url, int(_org), int(_events))
