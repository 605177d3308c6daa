"""The capture interface: validate a document, assign event IDs, store the events and their index.

One capture is one transaction. Under ``rollback`` (the default of the standard) a document with
any bad event stores no event at all; under ``proceed`` the good events are stored and the bad
ones reported. Either way the capture job itself is kept, with every error and its JSON pointer.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import service as audit
from txng.epcis import hashing, identifiers, validate, vocab
from txng.epcis.timestamps import parse_timestamp
from txng.errors import N_, FieldError, Forbidden
from txng.models import CaptureJob, EpcisEvent
from txng.models import epcis as m
from txng.models.base import utcnow
from txng.review import service as review_service

ROLLBACK = "rollback"
PROCEED = "proceed"
ERROR_BEHAVIOURS = (ROLLBACK, PROCEED)
MAX_STORED_ERRORS = 1000
_CHUNK = 500
_PIPELINE_CHUNK = 250  # events per round of COPY on PostgreSQL
_SGTIN_DL = re.compile(r"https://id\.gs1\.org/01/(\d{14})/21/")

# Where each list of identifiers goes in the index (field name → role).
_EPC_FIELDS = (
    ("epcList", m.ROLE_EPC),
    ("childEPCs", m.ROLE_CHILD),
    ("inputEPCList", m.ROLE_INPUT),
    ("outputEPCList", m.ROLE_OUTPUT),
)
_QUANTITY_FIELDS = (
    ("quantityList", m.ROLE_QUANTITY),
    ("childQuantityList", m.ROLE_CHILD_QUANTITY),
    ("inputQuantityList", m.ROLE_INPUT_QUANTITY),
    ("outputQuantityList", m.ROLE_OUTPUT_QUANTITY),
)


@dataclass
class CaptureOutcome:
    job: CaptureJob
    errors: list[FieldError] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)  # stored or already present, in order

    @property
    def rejected(self) -> bool:
        """Nothing was stored because of errors (rollback)."""
        return bool(self.errors) and self.job.error_behaviour == ROLLBACK


def events_of(document: Mapping[str, Any]) -> tuple[list[Any], str]:
    """The event list of an EPCISDocument or EPCISQueryDocument and its JSON pointer."""
    body = document.get("epcisBody")
    if document.get("type") == "EPCISQueryDocument" and isinstance(body, Mapping):
        results = body.get("queryResults")
        if isinstance(results, Mapping) and isinstance(results.get("resultsBody"), Mapping):
            events = results["resultsBody"].get("eventList")
            if isinstance(events, list):
                return events, "/epcisBody/queryResults/resultsBody/eventList"
    if isinstance(body, Mapping) and isinstance(body.get("eventList"), list):
        return body["eventList"], "/epcisBody/eventList"
    return [], "/epcisBody/eventList"


def expand(value: str, namespaces: Mapping[str, str]) -> str:
    """``ex:thing`` → the full IRI when ``ex`` is one of the document's prefixes."""
    prefix, sep, rest = value.partition(":")
    if sep and prefix in namespaces and not rest.startswith("//"):
        return namespaces[prefix] + rest
    return value


def vocabulary_key(kind: str, value: str, namespaces: Mapping[str, str]) -> str:
    """What a vocabulary value is stored and queried as: the CBV short name, else the full IRI."""
    return vocab.vocab_short(kind, value) or expand(value, namespaces)


def _canonical(value: str) -> str:
    try:
        return identifiers.canonical_id(value)
    except identifiers.IdentifierError:
        return value


def index_rows(event: Mapping[str, Any]) -> list[tuple[str, str, float | None, str | None]]:
    """(role, canonical identifier, quantity, uom) for every identifier the event names."""
    rows: list[tuple[str, str, float | None, str | None]] = []
    for name, role in _EPC_FIELDS:
        for epc in event.get(name) or ():
            rows.append((role, _canonical(epc), None, None))
    parent = event.get("parentID")
    if isinstance(parent, str):
        rows.append((m.ROLE_PARENT, _canonical(parent), None, None))
    for name, role in _QUANTITY_FIELDS:
        for element in event.get(name) or ():
            quantity = element.get("quantity")
            rows.append(
                (
                    role,
                    _canonical(element["epcClass"]),
                    float(quantity) if quantity is not None else None,
                    element.get("uom"),
                )
            )
    rows.extend((m.ROLE_LOT, lot, None, None) for lot in _commissioned_lots(event))
    return rows


def _commissioned_lots(event: Mapping[str, Any]) -> set[str]:
    """The lot (ILMD lot number) that the serialised items an event brings into being belong to:
    the epcList of a commissioning ObjectEvent, the outputs of a TransformationEvent."""
    ilmd = event.get("ilmd")
    if not isinstance(ilmd, Mapping):
        return set()
    lot = ilmd.get("cbvmda:lotNumber")
    if not isinstance(lot, str) or not lot:
        return set()
    lots: set[str] = set()
    for epc in (*(event.get("epcList") or ()), *(event.get("outputEPCList") or ())):
        match = _SGTIN_DL.match(_canonical(epc))
        if match:
            lots.add(identifiers.lgtin_dl(match.group(1), lot))
    return lots


def link_rows(
    event: Mapping[str, Any], namespaces: Mapping[str, str]
) -> list[tuple[str, str | None, str]]:
    """(kind, type, value) for business transactions, sources and destinations."""
    rows: list[tuple[str, str | None, str]] = []
    for item in event.get("bizTransactionList") or ():
        kind_type = item.get("type")
        rows.append(
            (
                "bt",
                vocabulary_key("bizTransactionType", kind_type, namespaces) if kind_type else None,
                _canonical(item["bizTransaction"]),
            )
        )
    for name, kind, key in (
        ("sourceList", "source", "source"),
        ("destinationList", "dest", "destination"),
    ):
        for item in event.get(name) or ():
            rows.append(
                (
                    kind,
                    vocabulary_key("sourceDestType", item["type"], namespaces),
                    _canonical(item[key]),
                )
            )
    return rows


def _location(event: Mapping[str, Any], name: str) -> str | None:
    place = event.get(name)
    if isinstance(place, Mapping) and isinstance(place.get("id"), str):
        return _canonical(place["id"])
    return None


@dataclass(slots=True)
class _Prepared:
    index: int
    event_id: str
    content_hash: str
    event: Mapping[str, Any]  # as sent
    body: dict[str, Any]  # as stored: with its eventID, without recordTime


def _prepare(
    index: int,
    event: Mapping[str, Any],
    namespaces: Mapping[str, str],
    ignore_fields: frozenset[str] = frozenset(),
) -> _Prepared:
    """The event's ID and hash (without the fields the document's ``ignoreFields`` names); its
    row and index rows are built by _store, for kept events."""
    content_hash = hashing.event_hash(event, namespaces, ignore_fields=ignore_fields)
    event_id = event.get("eventID") or content_hash
    body = dict(event)
    body["eventID"] = event_id
    body.pop("recordTime", None)  # the repository sets it
    return _Prepared(index, event_id, content_hash, event, body)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Stored:
    pk: int
    content_hash: str
    organisation_id: int | None
    error_declared: bool


def _driver(connection: Connection) -> Any:
    """The driver's own connection (psycopg or sqlite3) under the session's, same transaction."""
    return connection.connection.driver_connection


_EXISTING_PG = (
    "SELECT event_id, id, content_hash, organisation_id, error_declared FROM epcis_event "
    "WHERE event_id = ANY(%s)"
)


def _existing(session: Session, event_ids: Iterable[str]) -> dict[str, _Stored]:
    """The events already stored under these eventIDs."""
    wanted = sorted(set(event_ids))
    found: dict[str, _Stored] = {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # one array parameter: cheaper than IN (...)
        with _driver(connection).cursor() as cursor:
            cursor.execute(_EXISTING_PG, (wanted,))
            for event_id, pk, digest, org, declared in cursor:
                found[event_id] = _Stored(pk, digest, org, declared)
        return found
    for chunk in _chunks(wanted):
        stmt = select(
            EpcisEvent.event_id,
            EpcisEvent.id,
            EpcisEvent.content_hash,
            EpcisEvent.organisation_id,
            EpcisEvent.error_declared,
        ).where(EpcisEvent.event_id.in_(chunk))
        for event_id, pk, digest, org, declared in session.execute(stmt):
            found[event_id] = _Stored(pk, digest, org, declared)
    return found


def check_may_capture(principal: Principal) -> int:
    """Events belong to an organisation: only its own users and API keys record them."""
    if not principal.is_enterprise or principal.organisation_id is None:
        raise Forbidden(N_("Only an organisation's users and API keys can record events"))
    return principal.organisation_id


def capture(
    session: Session,
    principal: Principal,
    document: Mapping[str, Any],
    *,
    error_behaviour: str = ROLLBACK,
    source: str = "api",
    now: datetime | None = None,
) -> CaptureOutcome:
    """Validate and store one document's events in the caller's transaction.

    First optimistically: each round of events is validated while the database stores the
    previous one (_fresh), as if every event were valid and new. An invalid event, an event
    already stored or repeated undoes that attempt (a savepoint); then the whole document is
    validated, errors reported with their pointers, duplicates sorted out event by event."""
    organisation_id = check_may_capture(principal)
    record_time = now or utcnow()
    events, pointer = events_of(document)
    job = CaptureJob(
        capture_id=uuid.uuid4().hex,
        organisation_id=organisation_id,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        source=source,
        error_behaviour=error_behaviour,
        running=False,
        success=True,
        event_count=len(events),
        stored_count=0,
        duplicate_count=0,
        created_at=record_time,
    )
    session.add(job)
    outcome = CaptureOutcome(job, [])
    namespaces = hashing.document_namespaces(document.get("@context"))
    session.flush()  # the job's id
    ctx = _row_context(
        session,
        namespaces,
        ignore_fields=hashing.document_ignore_fields(document, namespaces),
        job_id=job.id,
        organisation_id=organisation_id,
        user_id=principal.user_id,
        record_time=record_time,
    )
    checker = validate.event_checker(document) if events else None
    stored: int | None = None
    retry = True  # whether the valid events may still all be new
    if checker is not None:
        try:
            stored = _store_fresh(session, list(enumerate(events)), ctx, outcome, checker)
        except _Invalid:
            pass
        except (_Repeated, *_INTEGRITY_ERRORS):
            retry = False
    if stored is None:
        errors, bad = validate.validate_document(document)
        outcome.errors.extend(errors)
        stored = 0
        if not (errors and error_behaviour == ROLLBACK):
            bad_indexes = set(bad)
            candidates = [(i, event) for i, event in enumerate(events) if i not in bad_indexes]
            stored = _capture_events(session, candidates, ctx, pointer, outcome, retry=retry)
    job.stored_count = stored
    job.success = not outcome.errors
    job.errors = [_error_json(e) for e in outcome.errors[:MAX_STORED_ERRORS]]
    job.finished_at = utcnow()
    review_service.on_capture(session, job)  # a batch to review, or published if trusted
    audit.record(
        session,
        actor=principal,
        action="epcis.capture",
        entity_type="capture_job",
        entity_id=job.capture_id,
        organisation_id=organisation_id,
        after={
            "events": job.event_count,
            "stored": stored,
            "duplicates": job.duplicate_count,
            "errors": len(outcome.errors),
            "error_behaviour": error_behaviour,
            "source": source,
        },
    )
    return outcome


def _capture_events(
    session: Session,
    candidates: list[tuple[int, Mapping[str, Any]]],
    ctx: _RowContext,
    pointer: str,
    outcome: CaptureOutcome,
    *,
    retry: bool = True,
) -> int:
    """Store the valid events; returns how many were stored.

    First (``retry``: unless that was tried already) as if every event were new; the unique
    eventID index (or an eventID seen twice) stops that at the first event already stored or
    repeated, and the savepoint undoes it. Then event by event: duplicates, eventID conflicts
    and error declarations (_drop_duplicates), the rest stored."""
    if retry:
        try:
            return _store_fresh(session, candidates, ctx, outcome)
        except (_Repeated, *_INTEGRITY_ERRORS):
            pass
    prepared = [_prepare(i, event, ctx.namespaces, ctx.ignore_fields) for i, event in candidates]
    keep = _drop_duplicates(session, prepared, pointer, outcome)
    if outcome.errors and outcome.job.error_behaviour == ROLLBACK:
        keep = []
    session.flush()  # error declarations
    try:
        return _store(session, keep, len(keep), ctx)
    except _INTEGRITY_ERRORS as exc:  # a concurrent capture stored one of these events first
        raise ConcurrentCapture() from exc


def _store_fresh(
    session: Session,
    candidates: list[tuple[int, Mapping[str, Any]]],
    ctx: _RowContext,
    outcome: CaptureOutcome,
    checker: Callable[[Sequence[Any]], bool] | None = None,
) -> int:
    """Store all candidates as new events (validating each round first with ``checker``);
    raises _Invalid, _Repeated or an integrity error, with nothing stored, when they are not."""
    prepared: list[_Prepared] = []
    stored = _store(session, _fresh(candidates, ctx, prepared, checker), len(candidates), ctx)
    outcome.event_ids.extend(item.event_id for item in prepared)
    return stored


class _Invalid(Exception):
    """An event of the document has an error: validate_document will say which."""


class _Repeated(Exception):
    """The same eventID twice in one document."""


def _fresh(
    candidates: list[tuple[int, Mapping[str, Any]]],
    ctx: _RowContext,
    prepared: list[_Prepared],
    checker: Callable[[Sequence[Any]], bool] | None = None,
) -> Iterator[_Prepared]:
    """Prepare the events one by one (into ``prepared``), as long as no eventID comes twice;
    with a ``checker``, each round of _PIPELINE_CHUNK events is validated before the first of
    them is prepared (while the database stores the round before)."""
    seen: set[str] = set()
    for position, (index, event) in enumerate(candidates):
        if checker is not None and position % _PIPELINE_CHUNK == 0:
            block = candidates[position : position + _PIPELINE_CHUNK]
            if not checker([e for _, e in block]):
                raise _Invalid()
        item = _prepare(index, event, ctx.namespaces, ctx.ignore_fields)
        prepared.append(item)
        if item.event_id in seen:
            raise _Repeated()
        seen.add(item.event_id)
        yield item


def _drop_duplicates(
    session: Session, prepared: list[_Prepared], pointer: str, outcome: CaptureOutcome
) -> list[_Prepared]:
    """The same event captured again is kept once; an eventID reused for other content is an
    error, except for the error declaration of one's own stored event (EPCIS 2.0 §7.4.1.4),
    which marks the stored event as declared in error."""
    stored = _existing(session, (p.event_id for p in prepared))
    seen: dict[str, str] = {}
    keep: list[_Prepared] = []
    for item in prepared:
        before = stored.get(item.event_id)
        previous = before.content_hash if before else seen.get(item.event_id)
        if previous is None:
            seen[item.event_id] = item.content_hash
            keep.append(item)
            outcome.event_ids.append(item.event_id)
        elif before is not None and _declares_error(item, before):
            if before.organisation_id != outcome.job.organisation_id:
                outcome.errors.append(
                    FieldError(
                        f"{pointer}/{item.index}/errorDeclaration",
                        N_("Only the organisation that recorded an event can declare it wrong"),
                        "not_owner",
                    )
                )
                continue
            _apply_error_declaration(session, before.pk, item.body)
            outcome.event_ids.append(item.event_id)
        elif previous == item.content_hash:
            outcome.job.duplicate_count += 1
            outcome.event_ids.append(item.event_id)
        else:
            outcome.errors.append(
                FieldError(
                    f"{pointer}/{item.index}/eventID",
                    N_("This eventID is already used by a different event"),
                    "event_id_conflict",
                )
            )
    return keep


def _declares_error(item: _Prepared, before: _Stored) -> bool:
    return "errorDeclaration" in item.body and not before.error_declared


def _apply_error_declaration(session: Session, pk: int, body: dict[str, Any]) -> None:
    event = session.get(EpcisEvent, pk)
    if event is None:  # pragma: no cover - selected a moment ago in this transaction
        return
    event.body = {**event.body, "errorDeclaration": body["errorDeclaration"]}
    event.error_declared = True


# The columns _store writes, in this order (published_at stays NULL), after the id on PostgreSQL
# (taken from the sequence beforehand); SQLite assigns the ids, read back by eventID.
_EVENT_COLUMNS = (
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
    "recorded_by_user_id",
    "error_declared",
    "body",
    "namespaces",
)
# SQLAlchemy's, or the driver's when _store writes on the raw connection
_INTEGRITY_ERRORS = (IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)
# What the JSON columns hold: compact JSON text (parsed by PostgreSQL into jsonb).
_json_fallback = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _json(value: Any) -> str:
    """Compact JSON text of a captured body (orjson; json for what it refuses, e.g. integers
    beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _json_fallback(value)


_IDENT_COLUMNS = ("event_pk", "role", "ident", "quantity", "uom")
_LINK_COLUMNS = ("event_pk", "kind", "type", "value")


@dataclass(frozen=True, slots=True)
class _RowContext:
    """What every event row of one capture shares."""

    namespaces: Mapping[str, str]
    namespaces_json: str
    ignore_fields: frozenset[str]  # the document's ignoreFields, left out of event hashes
    job_id: int
    organisation_id: int | None
    user_id: int | None
    record_time: Any  # a datetime, or what the dialect stores it as (SQLite: text)
    time_processor: Callable[[Any], Any] | None


def _event_row(item: _Prepared, ctx: _RowContext) -> tuple[Any, ...]:
    """The values of _EVENT_COLUMNS for one event."""
    event, namespaces = item.event, ctx.namespaces
    biz_step = event.get("bizStep")
    disposition = event.get("disposition")
    event_time: Any = parse_timestamp(event["eventTime"])
    if ctx.time_processor is not None:
        event_time = ctx.time_processor(event_time)
    return (
        item.event_id,
        item.content_hash,
        event["type"],
        event.get("action"),
        event_time,
        event["eventTimeZoneOffset"],
        ctx.record_time,
        vocabulary_key("bizStep", biz_step, namespaces) if biz_step else None,
        vocabulary_key("disposition", disposition, namespaces) if disposition else None,
        _location(event, "readPoint"),
        _location(event, "bizLocation"),
        ctx.organisation_id,
        ctx.job_id,
        ctx.user_id,
        "errorDeclaration" in event,
        _json(item.body),
        ctx.namespaces_json,
    )


def _row_context(
    session: Session,
    namespaces: Mapping[str, str],
    *,
    ignore_fields: frozenset[str],
    job_id: int,
    organisation_id: int | None,
    user_id: int | None,
    record_time: datetime,
) -> _RowContext:
    dialect = session.connection().dialect
    time_processor = None
    if dialect.name != "postgresql":
        time_type = EpcisEvent.__table__.c.event_time.type
        time_processor = time_type.dialect_impl(dialect).bind_processor(dialect)
    return _RowContext(
        namespaces=namespaces,
        namespaces_json=_json(dict(namespaces)),
        ignore_fields=ignore_fields,
        job_id=job_id,
        organisation_id=organisation_id,
        user_id=user_id,
        record_time=time_processor(record_time) if time_processor else record_time,
        time_processor=time_processor,
    )


def _store(session: Session, items: Iterable[_Prepared], count: int, ctx: _RowContext) -> int:
    """Insert ``count`` events and their index rows on the session's connection, without the
    ORM: COPY on PostgreSQL, a plain ``executemany`` on SQLite, inside a savepoint. Whatever
    ``items`` or the database raise (an IntegrityError) leaves nothing stored."""
    if count == 0:
        return 0
    with session.begin_nested():
        connection = session.connection()  # here, so that the SAVEPOINT is sent
        if connection.dialect.name == "postgresql":
            _copy_postgresql(_driver(connection), items, count, ctx)
        else:
            _insert_executemany(_driver(connection), items, ctx)
    return count


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


_NEXT_IDS_PG = (
    "SELECT nextval((SELECT pg_get_serial_sequence('epcis_event', 'id'))::regclass) "
    "FROM generate_series(1, %s)"
)
_COPY_EVENTS = f"COPY epcis_event (id, {_columns(_EVENT_COLUMNS)}) FROM STDIN"
_COPY_IDENTS = f"COPY epcis_event_ident ({_columns(_IDENT_COLUMNS)}) FROM STDIN"
_COPY_LINKS = f"COPY epcis_event_link ({_columns(_LINK_COLUMNS)}) FROM STDIN"


def _copy_postgresql(dbapi: Any, items: Iterable[_Prepared], count: int, ctx: _RowContext) -> None:
    """Take the ids from the sequence, then COPY the events and their index rows, a chunk at a
    time, so that Python and the server work at the same time: each event is prepared (hashed)
    and its row built while the server inserts the rows sent before it, whether event rows or
    the identifier and link rows of the previous chunk (ADR 0014)."""
    with dbapi.cursor() as cursor:
        cursor.execute(_NEXT_IDS_PG, (count,))
        ids = iter(sorted(row[0] for row in cursor.fetchall()))
        source = iter(items)
        ahead: list[_Prepared] = []
        while True:
            chunk, ahead = ahead, []
            chunk.extend(islice(source, 0 if chunk else 1))
            if not chunk:
                return
            idents: list[tuple[Any, ...]] = []
            links: list[tuple[Any, ...]] = []
            with cursor.copy(_COPY_EVENTS) as copy:
                for item in _filled(chunk, source, _PIPELINE_CHUNK):
                    pk = next(ids)
                    copy.write_row((pk, *_event_row(item, ctx)))
                    idents.extend((pk, *row) for row in index_rows(item.event))
                    links.extend((pk, *row) for row in link_rows(item.event, ctx.namespaces))
            # One event of the next chunk prepared every `step` index rows sent.
            step = max(1, (len(idents) + len(links)) // _PIPELINE_CHUNK)
            for sql, rows in ((_COPY_IDENTS, idents), (_COPY_LINKS, links)):
                if rows:
                    with cursor.copy(sql) as copy:
                        for n, row in enumerate(rows, 1):
                            copy.write_row(row)
                            if n % step == 0 and len(ahead) < _PIPELINE_CHUNK:
                                ahead.extend(islice(source, 1))


def _filled(chunk: list[_Prepared], source: Iterator[_Prepared], size: int) -> Iterator[_Prepared]:
    """The items of ``chunk``, then more from ``source`` (appended to ``chunk``) up to ``size``."""
    yield from list(chunk)
    for item in islice(source, size - len(chunk)):
        chunk.append(item)
        yield item


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({_columns(columns)}) VALUES ({marks})"  # noqa: S608 (constants)


_INSERT_EVENTS = _insert_sql("epcis_event", _EVENT_COLUMNS)
_INSERT_IDENTS = _insert_sql("epcis_event_ident", _IDENT_COLUMNS)
_INSERT_LINKS = _insert_sql("epcis_event_link", _LINK_COLUMNS)
_IDS_OF_JOB = "SELECT event_id, id FROM epcis_event WHERE capture_job_id = ?"


def _insert_executemany(dbapi: Any, items: Iterable[_Prepared], ctx: _RowContext) -> None:
    """INSERT the events, read their ids back by eventID, INSERT their index rows."""
    prepared = list(items)
    cursor = dbapi.cursor()
    try:
        cursor.executemany(_INSERT_EVENTS, [_event_row(item, ctx) for item in prepared])
        cursor.execute(_IDS_OF_JOB, (ctx.job_id,))
        ids: dict[str, int] = dict(cursor.fetchall())
        idents: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        for item in prepared:
            pk = ids[item.event_id]
            idents.extend((pk, *row) for row in index_rows(item.event))
            links.extend((pk, *row) for row in link_rows(item.event, ctx.namespaces))
        if idents:
            cursor.executemany(_INSERT_IDENTS, idents)
        if links:
            cursor.executemany(_INSERT_LINKS, links)
    finally:
        cursor.close()


class ConcurrentCapture(Exception):
    """Another transaction stored one of the events meanwhile: retry the whole capture."""


def _error_json(error: FieldError) -> dict[str, Any]:
    return {
        "pointer": error.field,
        "code": error.code,
        "message": error.message,
        "params": {k: str(v) for k, v in error.params.items()},
    }


def job_errors(job: CaptureJob) -> list[FieldError]:
    errors: list[FieldError] = []
    for stored in job.errors:
        params = stored.get("params")
        errors.append(
            FieldError(
                str(stored["pointer"]),
                str(stored["message"]),
                str(stored["code"]),
                params if isinstance(params, dict) else {},
            )
        )
    return errors
