"""Big datasets for the trace benchmarks: generated supply chains, bulk-loaded, kept for reuse.

Loading 10 million events through capture would take hours, so the parties are registered
through the services (organisation, GLN, one facility) and the events are stored by the bulk
path of `bench.rows`: the rows capture builds (same event hash, canonical identifiers, index
and link rows), written by COPY on PostgreSQL (executemany on SQLite) in large transactions,
with the secondary indexes, unique constraints and foreign keys of the three event tables
dropped during the load and recreated after it (then VACUUM ANALYZE). No validation, no
duplicate check, one capture job per organisation.

A loaded dataset is kept: the PostgreSQL database ``txng_bench_<name>`` or the SQLite file
``var/bench/<name>.sqlite3``, with a row in ``bench_dataset`` saying what was loaded; a later run
with the same plan reuses it (after migrating it to the current schema).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from bench import chains, rows
from bench.world import ADMIN, LUC_NGAN, PG_ADMIN_URL, POSTGRESQL, Backend, tax_code
from txng.db import make_engine, make_sessionmaker, session_scope
from txng.migrations import runner
from txng.models import CaptureJob
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn, OrganisationIn

REPO_ROOT = Path(__file__).resolve().parents[1]
SQLITE_DIR = REPO_ROOT / "var" / "bench"
EVENT_TABLES = ("epcis_event", "epcis_event_ident", "epcis_event_link")
CHUNK_EVENTS = 20_000  # events per COPY round and transaction
MARKER = "bench_dataset"


@dataclass(frozen=True)
class Dataset:
    name: str  # "1m", "10m" …: the database is txng_bench_<name>
    plan: chains.Plan

    @property
    def events(self) -> int:
        return self.plan.events

    def key(self) -> str:
        """What identifies the content: the generator's plan."""
        fields = asdict(self.plan)
        fields["start"] = self.plan.start.isoformat()
        return json.dumps(fields, sort_keys=True)


@dataclass(frozen=True)
class Loaded:
    """A dataset ready to use, and how its load went (when this run or an earlier one did it)."""

    url: str
    events: int
    rows: int  # event, identifier and link rows
    load_s: float  # registering, generating and writing the events
    index_s: float  # recreating indexes and constraints, VACUUM ANALYZE
    reused: bool
    loaded_at: str

    @property
    def events_per_s(self) -> float:
        return self.events / self.load_s

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.load_s


def dataset_url(backend: Backend, name: str) -> str:
    if backend == POSTGRESQL:
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/txng_bench_{name}"
    return f"sqlite:///{SQLITE_DIR / f'{name}.sqlite3'}"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(name: str) -> bool:
    with psycopg.connect(PG_ADMIN_URL) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _marker(url: str) -> Loaded | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    f"SELECT plan, events, total_rows, load_s, index_s, loaded_at "  # noqa: S608
                    f"FROM {MARKER}"
                )
            ).first()
    except Exception:
        return None
    finally:
        engine.dispose()
    if row is None:
        return None
    _, events, total, load_s, index_s, loaded_at = row
    return Loaded(url, int(events), int(total), float(load_s), float(index_s), True, loaded_at)


def _marker_plan(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT plan FROM {MARKER}")).scalar()  # noqa: S608
    except Exception:
        return None
    finally:
        engine.dispose()


def ensure(backend: Backend, dataset: Dataset, *, log: Callable[[str], None] = print) -> Loaded:
    """The dataset's database, loaded now unless an earlier run left it complete."""
    url = dataset_url(backend, dataset.name)
    pg_name = f"txng_bench_{dataset.name}"
    present = _pg_exists(pg_name) if backend == POSTGRESQL else Path(url[10:]).exists()
    if present and _marker_plan(url) == dataset.key():
        runner.upgrade(url)  # the schema may have moved on since
        loaded = _marker(url)
        if loaded is not None:
            log(f"[{backend.name}] reusing dataset {dataset.name} ({loaded.events:,} events)")
            return loaded
    if backend == POSTGRESQL:
        _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
    else:
        SQLITE_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url[10:]}{suffix}").unlink(missing_ok=True)
    runner.upgrade(url)
    return _load(url, dataset, log)


# registering the parties --------------------------------------------------------------------


def _register(engine: Engine, plan: chains.Plan) -> dict[chains.Party, tuple[int, int]]:
    """Every party as an organisation (GS1 prefix, GLN) with one facility, and one capture job:
    party → (organisation id, job id)."""
    factory = make_sessionmaker(engine)
    out: dict[chains.Party, tuple[int, int]] = {}
    with session_scope(factory) as session:
        for party in chains.parties(plan):
            org = registry_service.register_organisation(
                session,
                actor=ADMIN,
                data=OrganisationIn.model_validate(
                    {
                        "kind": "cooperative" if party.role == "farm" else "enterprise",
                        "name": party.name,
                        "tax_code": tax_code(),
                        "sector": "agriculture",
                        "province_code": "24",
                        "commune_code": LUC_NGAN,
                        "gs1_company_prefix": party.prefix,
                        "gln": party.gln,
                    }
                ),
            )
            registry_service.create_facility(
                session,
                actor=ADMIN,
                organisation_id=org.id,
                data=FacilityIn.model_validate(
                    {
                        "kind": party.site_kind,
                        "name": party.site_name,
                        "gln": party.site_gln,
                        "growing_area_code": (
                            f"VN-24-{party.index:06d}"
                            if party.site_kind == "growing_area"
                            else None
                        ),
                        "province_code": "24",
                        "commune_code": LUC_NGAN,
                    }
                ),
            )
            job = CaptureJob(
                capture_id=f"bench-{party.prefix}",
                organisation_id=org.id,
                source="bench",
                errors=[],
            )
            session.add(job)
            session.flush()
            out[party] = (org.id, job.id)
    return out


# dropping and recreating what slows a bulk load ---------------------------------------------


def _drop_postgresql(cursor: Any) -> list[str]:
    """Drop the foreign keys, unique constraints and secondary indexes of the event tables;
    returns the statements that recreate them, in order."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) "
        "AND c.contype IN ('f', 'u') ORDER BY c.contype",  # f before u
        (list(EVENT_TABLES),),
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (list(EVENT_TABLES),),
    )
    indexes = cursor.fetchall()
    for table, name, _, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    recreate = [definition for _, definition in indexes]
    unique = [(t, n, d) for t, n, d, kind in constraints if kind == "u"]
    foreign = [(t, n, d) for t, n, d, kind in constraints if kind == "f"]
    recreate += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in unique + foreign]
    return recreate


def _drop_sqlite(cursor: Any) -> list[str]:
    marks = ", ".join("?" * len(EVENT_TABLES))
    cursor.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
        f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
        EVENT_TABLES,
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


# loading -----------------------------------------------------------------------------------


def _chunks(
    plan: chains.Plan,
    parties: dict[chains.Party, tuple[int, int]],
    first_id: int,
    to_db: Callable[[datetime], Any],
) -> Iterator[rows.RawRows]:
    """The rows of the plan's events, CHUNK_EVENTS at a time, ids counted from first_id."""
    ids = iter(range(first_id, 1 << 62))
    chunk = rows.RawRows()
    for batch in chains.documents(plan):
        org_id, job_id = parties[batch.owner]
        chunk.add_document(ids, batch.document, organisation_id=org_id, job_id=job_id, to_db=to_db)
        if len(chunk.events) >= CHUNK_EVENTS:
            yield chunk
            chunk = rows.RawRows()
    if chunk.events:
        yield chunk


def _write_all(
    conn: Any, chunks: Iterator[rows.RawRows], postgres: bool, log: Callable[[str], None]
) -> tuple[int, int]:
    """Write the chunks, each in its own transaction; on PostgreSQL a writer thread sends one
    chunk while this thread builds the next (the server works meanwhile on the other core)."""
    events = total = 0
    started = time.perf_counter()
    next_report = 1_000_000

    def progress(chunk: rows.RawRows) -> None:
        nonlocal events, total, next_report
        events += len(chunk.events)
        total += chunk.count
        if events >= next_report:
            rate = events / (time.perf_counter() - started)
            log(f"  {events:,} events loaded ({rate:,.0f}/s)")
            next_report += 1_000_000

    cursor = conn.cursor()
    if not postgres:
        for chunk in chunks:
            rows.write(cursor, chunk, postgres=False)
            conn.commit()
            progress(chunk)
        return events, total
    pending: queue.Queue[rows.RawRows | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            while (chunk := pending.get()) is not None:
                rows.write(cursor, chunk, postgres=True)
                conn.commit()
        except BaseException as exc:
            failure.append(exc)
            while pending.get() is not None:  # let the producer finish
                pass

    thread = threading.Thread(target=writer, name="bench-copy", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
            progress(chunk)
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return events, total


def _load(url: str, dataset: Dataset, log: Callable[[str], None]) -> Loaded:
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    try:
        log(f"loading dataset {dataset.name}: {dataset.events:,} events into {url}")
        started = time.perf_counter()
        parties = _register(engine, dataset.plan)
        raw = engine.raw_connection()
        try:
            conn: Any = raw.driver_connection
            cursor = conn.cursor()
            if postgres:
                cursor.execute("SET synchronous_commit = off")
            else:
                cursor.execute("PRAGMA foreign_keys = OFF")
            recreate = _drop_postgresql(cursor) if postgres else _drop_sqlite(cursor)
            first_id = rows.next_event_ids(cursor, 1, postgres=postgres)[0]
            conn.commit()
            chunks = _chunks(dataset.plan, parties, first_id, rows.to_db(engine))
            events, total = _write_all(conn, chunks, postgres, log)
            load_s = time.perf_counter() - started
            log(f"  {events:,} events, {total:,} rows in {load_s:.0f} s; indexing ...")
            started = time.perf_counter()
            if postgres:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('epcis_event', 'id'), "
                    "(SELECT max(id) FROM epcis_event))"
                )
            for statement in recreate:
                cursor.execute(statement)
                conn.commit()
            if postgres:
                conn.autocommit = True
                for table in EVENT_TABLES:
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
                conn.autocommit = False
            else:
                cursor.execute("ANALYZE")
                conn.commit()
            index_s = time.perf_counter() - started
            loaded_at = datetime.now().astimezone().isoformat(timespec="minutes")
            cursor.execute(
                f"CREATE TABLE {MARKER} (plan TEXT, events BIGINT, total_rows BIGINT, "
                "load_s FLOAT, index_s FLOAT, loaded_at TEXT)"
            )
            cursor.execute(
                f"INSERT INTO {MARKER} VALUES ({', '.join(['%s' if postgres else '?'] * 6)})",  # noqa: S608
                (dataset.key(), events, total, load_s, index_s, loaded_at),
            )
            conn.commit()
        finally:
            raw.close()
        log(f"  indexes, constraints and statistics in {index_s:.0f} s")
        return Loaded(url, events, total, load_s, index_s, False, loaded_at)
    finally:
        engine.dispose()
