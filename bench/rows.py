"""The rows capture stores for a document, built by the functions capture uses, and written raw:
COPY on PostgreSQL, executemany INSERT on SQLite. The baseline of the capture benchmark and the
bulk loader of the trace datasets.

No validation, no duplicate check, no capture job or audit entry per document: the events come
from the generator (`bench.chains`) and are valid, which the capture benchmark checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from txng.epcis import capture as capture_service
from txng.epcis import hashing, identifiers
from txng.epcis.timestamps import parse_timestamp
from txng.models import EpcisEvent
from txng.models.base import utcnow

EVENT_COLUMNS = (
    "id",
    "event_id",
    "content_hash",
    "event_type",
    "action",
    "event_time",
    "event_time_zone_offset",
    "record_time",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "organisation_id",
    "capture_job_id",
    "error_declared",
    "body",
    "namespaces",
)
IDENT_COLUMNS = ("event_pk", "role", "ident", "quantity", "uom")
LINK_COLUMNS = ("event_pk", "kind", "type", "value")
TABLES = (
    ("epcis_event", EVENT_COLUMNS),
    ("epcis_event_ident", IDENT_COLUMNS),
    ("epcis_event_link", LINK_COLUMNS),
)
compact_json = json.JSONEncoder(separators=(",", ":")).encode


def place_id(event: Mapping[str, Any], name: str) -> str | None:
    place = event.get(name)
    if not isinstance(place, Mapping) or not isinstance(place.get("id"), str):
        return None
    try:
        return identifiers.canonical_id(place["id"])
    except identifiers.IdentifierError:
        return str(place["id"])


@dataclass
class RawRows:
    """Rows of the three tables; event ids are given by ``add`` (the caller numbers them)."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    idents: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.events) + len(self.idents) + len(self.links)

    def add(
        self,
        pk: int,
        event: Mapping[str, Any],
        namespaces: Mapping[str, str],
        *,
        organisation_id: int,
        job_id: int,
        record_time: Any,
        namespaces_json: str,
        to_db: Callable[[datetime], Any],
    ) -> None:
        digest = hashing.event_hash(event, namespaces)
        event_id = event.get("eventID") or digest
        step, disposition = event.get("bizStep"), event.get("disposition")
        key = capture_service.vocabulary_key
        self.events.append(
            (
                pk,
                event_id,
                digest,
                event["type"],
                event.get("action"),
                to_db(parse_timestamp(event["eventTime"])),
                event["eventTimeZoneOffset"],
                record_time,
                key("bizStep", step, namespaces) if step else None,
                key("disposition", disposition, namespaces) if disposition else None,
                place_id(event, "readPoint"),
                place_id(event, "bizLocation"),
                organisation_id,
                job_id,
                "errorDeclaration" in event,
                compact_json({**event, "eventID": event_id}),
                namespaces_json,
            )
        )
        self.idents.extend((pk, *row) for row in capture_service.index_rows(event))
        self.links.extend((pk, *row) for row in capture_service.link_rows(event, namespaces))

    def add_document(
        self,
        ids: Iterator[int],
        document: Mapping[str, Any],
        *,
        organisation_id: int,
        job_id: int,
        to_db: Callable[[datetime], Any],
    ) -> None:
        """Add every event of the document, with the next ids."""
        namespaces = hashing.document_namespaces(document.get("@context"))
        ns_json = compact_json(namespaces)
        record_time = to_db(utcnow())
        for event in document["epcisBody"]["eventList"]:
            self.add(
                next(ids),
                event,
                namespaces,
                organisation_id=organisation_id,
                job_id=job_id,
                record_time=record_time,
                namespaces_json=ns_json,
                to_db=to_db,
            )


def to_db(engine: Engine) -> Callable[[datetime], Any]:
    """How a UTCDateTime parameter reaches the driver (SQLite: text)."""
    if engine.dialect.name == "postgresql":
        return _same
    column_type = EpcisEvent.__table__.c.event_time.type
    process = column_type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
    if process is None:  # pragma: no cover - SQLite always formats datetimes
        return _same
    return process


def _same(moment: datetime) -> datetime:
    return moment


def copy_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def write(cursor: Any, rows: RawRows, *, postgres: bool) -> None:
    """COPY (PostgreSQL) or executemany INSERT (SQLite) the rows, on a driver cursor."""
    for (table, columns), values in zip(
        TABLES, (rows.events, rows.idents, rows.links), strict=True
    ):
        if not values:
            continue
        if postgres:
            with cursor.copy(copy_sql(table, columns)) as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(insert_sql(table, columns), values)


def next_event_ids(cursor: Any, count: int, *, postgres: bool) -> list[int]:
    """``count`` unused epcis_event ids: from the sequence on PostgreSQL, past the largest on
    SQLite (the caller holds the only writing connection)."""
    if postgres:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('epcis_event', 'id')) "
            "FROM generate_series(1, %s)",
            (count,),
        )
        return sorted(int(r[0]) for r in cursor.fetchall())
    cursor.execute("SELECT coalesce(max(id), 0) FROM epcis_event")
    top = int(cursor.fetchone()[0])
    return list(range(top + 1, top + 1 + count))
