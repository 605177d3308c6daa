"""The capture interface: validate a document, assign event IDs, store the events and their index.

One capture is one transaction. Under ``rollback`` (the default of the standard) a document with
any bad event stores no event at all; under ``proceed`` the good events are stored and the bad
ones reported. Either way the capture job itself is kept, with every error and its JSON pointer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import service as audit
from txng.epcis import hashing, identifiers, validate, vocab
from txng.epcis.timestamps import parse_timestamp
from txng.errors import N_, FieldError, Forbidden
from txng.models import CaptureJob, EpcisEvent, EventIdent, EventLink
from txng.models import epcis as m
from txng.models.base import utcnow

ROLLBACK = "rollback"
PROCEED = "proceed"
ERROR_BEHAVIOURS = (ROLLBACK, PROCEED)
MAX_STORED_ERRORS = 1000
_CHUNK = 500
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
    """The lot (ILMD lot number) that the serialised items of a commissioning event belong to."""
    ilmd = event.get("ilmd")
    if not isinstance(ilmd, Mapping):
        return set()
    lot = ilmd.get("cbvmda:lotNumber")
    if not isinstance(lot, str) or not lot:
        return set()
    lots: set[str] = set()
    for epc in event.get("epcList") or ():
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


@dataclass
class _Prepared:
    index: int
    event_id: str
    content_hash: str
    row: dict[str, Any]
    idents: list[tuple[str, str, float | None, str | None]]
    links: list[tuple[str, str | None, str]]


def _prepare(
    index: int,
    event: dict[str, Any],
    namespaces: Mapping[str, str],
    *,
    organisation_id: int | None,
    user_id: int | None,
    record_time: datetime,
) -> _Prepared:
    content_hash = hashing.event_hash(event, namespaces)
    event_id = event.get("eventID") or content_hash
    body = dict(event)
    body["eventID"] = event_id
    body.pop("recordTime", None)  # the repository sets it
    biz_step = event.get("bizStep")
    disposition = event.get("disposition")
    row = {
        "event_id": event_id,
        "content_hash": content_hash,
        "event_type": event["type"],
        "action": event.get("action"),
        "event_time": parse_timestamp(event["eventTime"]),
        "event_time_zone_offset": event["eventTimeZoneOffset"],
        "record_time": record_time,
        "biz_step": vocabulary_key("bizStep", biz_step, namespaces) if biz_step else None,
        "disposition": (
            vocabulary_key("disposition", disposition, namespaces) if disposition else None
        ),
        "read_point": _location(event, "readPoint"),
        "biz_location": _location(event, "bizLocation"),
        "organisation_id": organisation_id,
        "recorded_by_user_id": user_id,
        "error_declared": "errorDeclaration" in event,
        "body": body,
        "namespaces": dict(namespaces),
    }
    return _Prepared(
        index, event_id, content_hash, row, index_rows(event), link_rows(event, namespaces)
    )


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Stored:
    pk: int
    content_hash: str
    organisation_id: int | None
    error_declared: bool


def _existing(session: Session, event_ids: Iterable[str]) -> dict[str, _Stored]:
    """The events already stored under these eventIDs."""
    found: dict[str, _Stored] = {}
    for chunk in _chunks(sorted(set(event_ids))):
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
    """Validate and store one document's events in the caller's transaction."""
    organisation_id = check_may_capture(principal)
    record_time = now or utcnow()
    events, pointer = events_of(document)
    errors, bad = validate.validate_document(document)
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
    outcome = CaptureOutcome(job, list(errors))
    namespaces = hashing.document_namespaces(document.get("@context"))
    bad_indexes = set(bad)
    prepared: list[_Prepared] = []
    if not (errors and error_behaviour == ROLLBACK):
        for index, event in enumerate(events):
            if index in bad_indexes:
                continue
            prepared.append(
                _prepare(
                    index,
                    event,
                    namespaces,
                    organisation_id=organisation_id,
                    user_id=principal.user_id,
                    record_time=record_time,
                )
            )
        prepared = _drop_duplicates(session, prepared, pointer, outcome)
    if outcome.errors and error_behaviour == ROLLBACK:
        prepared = []
    session.flush()  # the job's id
    stored = _store(session, job.id, prepared)
    job.stored_count = stored
    job.success = not outcome.errors
    job.errors = [_error_json(e) for e in outcome.errors[:MAX_STORED_ERRORS]]
    job.finished_at = utcnow()
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
            _apply_error_declaration(session, before.pk, item.row["body"])
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
    return "errorDeclaration" in item.row["body"] and not before.error_declared


def _apply_error_declaration(session: Session, pk: int, body: dict[str, Any]) -> None:
    event = session.get(EpcisEvent, pk)
    if event is None:  # pragma: no cover - selected a moment ago in this transaction
        return
    event.body = {**event.body, "errorDeclaration": body["errorDeclaration"]}
    event.error_declared = True


def _store(session: Session, job_id: int, prepared: list[_Prepared]) -> int:
    if not prepared:
        return 0
    rows = [{**p.row, "capture_job_id": job_id} for p in prepared]
    try:
        with session.begin_nested():
            ids = list(
                session.scalars(
                    insert(EpcisEvent).returning(EpcisEvent.id, sort_by_parameter_order=True),
                    rows,
                )
            )
    except IntegrityError as exc:  # a concurrent capture stored one of these events first
        raise ConcurrentCapture() from exc
    ident_rows = [
        {"event_pk": pk, "role": role, "ident": ident, "quantity": quantity, "uom": uom}
        for pk, p in zip(ids, prepared, strict=True)
        for role, ident, quantity, uom in p.idents
    ]
    link_rows_ = [
        {"event_pk": pk, "kind": kind, "type": type_, "value": value}
        for pk, p in zip(ids, prepared, strict=True)
        for kind, type_, value in p.links
    ]
    if ident_rows:
        session.execute(insert(EventIdent), ident_rows)
    if link_rows_:
        session.execute(insert(EventLink), link_rows_)
    return len(ids)


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
