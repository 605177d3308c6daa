"""How capture stores events: index rows on the right event, duplicates inside a document and
beside stored events, nothing left behind by an attempt that was undone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role
from txng.epcis import capture
from txng.models import EpcisEvent, EventIdent, EventLink
from txng.models import epcis as m

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def _event(serial: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-06-10T07:30:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:epc:id:sgtin:8930001.012345.{serial}"],
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:8930001.00001.0"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:8930001000018:PO-{serial}"}
        ],
    }
    event.update(extra)
    return event


def _principal(session: Session) -> Principal:
    ent = f.enterprise(session)
    return Principal(role=Role.ENTERPRISE_ADMIN, label="test", organisation_id=ent.org.id)


def _count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _serials_by_event(session: Session) -> dict[str, set[str]]:
    """Stored event → the serials of the EPCs its index rows name."""
    rows = session.execute(
        select(EpcisEvent.body, EventIdent.ident)
        .join(EventIdent, EventIdent.event_pk == EpcisEvent.id)
        .where(EventIdent.role == m.ROLE_EPC)
    )
    out: dict[str, set[str]] = {}
    for body, ident in rows:
        serial = body["epcList"][0].rsplit(".", 1)[1]
        out.setdefault(serial, set()).add(ident.rsplit("/", 1)[1])
    return out


def test_index_and_link_rows_belong_to_their_own_event(db_session: Session) -> None:
    principal = _principal(db_session)
    outcome = capture.capture(db_session, principal, _doc(*(_event(str(i)) for i in range(30))))
    assert outcome.job.stored_count == 30
    assert _serials_by_event(db_session) == {str(i): {str(i)} for i in range(30)}
    links = db_session.execute(
        select(EpcisEvent.body, EventLink.value).join(
            EventLink, EventLink.event_pk == EpcisEvent.id
        )
    )
    for body, value in links:
        assert value.endswith(body["epcList"][0].rsplit(".", 1)[1])


def test_a_long_document_keeps_every_index_row_on_its_own_event(db_session: Session) -> None:
    """On PostgreSQL a document goes in rounds of COPY (capture._PIPELINE_CHUNK events): the
    rows of each round name the events of that round, also across round boundaries."""
    principal = _principal(db_session)
    count = 2 * capture._PIPELINE_CHUNK + 17
    outcome = capture.capture(db_session, principal, _doc(*(_event(str(i)) for i in range(count))))
    assert outcome.job.stored_count == count
    assert _serials_by_event(db_session) == {str(i): {str(i)} for i in range(count)}
    assert _count(db_session, EventLink) == count


def test_a_long_document_stored_before_in_part_stores_the_rest_once(db_session: Session) -> None:
    """An event already stored late in a long document stops the first attempt in a later round
    of COPY; the rounds already sent are undone and the rest stored once."""
    principal = _principal(db_session)
    late = str(capture._PIPELINE_CHUNK + 40)
    capture.capture(db_session, principal, _doc(_event(late)))
    count = 2 * capture._PIPELINE_CHUNK
    outcome = capture.capture(db_session, principal, _doc(*(_event(str(i)) for i in range(count))))
    assert not outcome.errors
    assert (outcome.job.stored_count, outcome.job.duplicate_count) == (count - 1, 1)
    assert _serials_by_event(db_session) == {str(i): {str(i)} for i in range(count)}
    assert _count(db_session, EventIdent) == count
    assert _count(db_session, EventLink) == count


def test_the_same_event_twice_in_one_document_is_stored_once(db_session: Session) -> None:
    principal = _principal(db_session)
    outcome = capture.capture(db_session, principal, _doc(_event("1"), _event("2"), _event("1")))
    assert not outcome.errors
    assert outcome.job.stored_count == 2
    assert outcome.job.duplicate_count == 1
    assert outcome.event_ids[0] == outcome.event_ids[2]
    assert _count(db_session, EpcisEvent) == 2
    assert _count(db_session, EventIdent) == 2
    assert _count(db_session, EventLink) == 2


def test_a_document_partly_stored_before_stores_the_rest_and_nothing_twice(
    db_session: Session,
) -> None:
    principal = _principal(db_session)
    capture.capture(db_session, principal, _doc(_event("2")))
    outcome = capture.capture(db_session, principal, _doc(_event("1"), _event("2"), _event("3")))
    assert not outcome.errors
    assert (outcome.job.stored_count, outcome.job.duplicate_count) == (2, 1)
    assert len(outcome.event_ids) == 3
    # the first attempt (all events as new) was undone: no index rows of it are left
    assert _serials_by_event(db_session) == {"1": {"1"}, "2": {"2"}, "3": {"3"}}
    assert _count(db_session, EventIdent) == 3
    assert _count(db_session, EventLink) == 3


def test_an_event_id_twice_with_other_content_stores_nothing_under_rollback(
    db_session: Session,
) -> None:
    principal = _principal(db_session)
    event_id = "urn:uuid:6b0f3c1e-2a44-4d0e-9b1a-3c5d7e9f1a2b"
    document = _doc(_event("1", eventID=event_id), _event("2", eventID=event_id))
    outcome = capture.capture(db_session, principal, document)
    assert outcome.rejected
    assert [e.code for e in outcome.errors] == ["event_id_conflict"]
    assert outcome.errors[0].field == "/epcisBody/eventList/1/eventID"
    assert _count(db_session, EpcisEvent) == 0
    assert _count(db_session, EventIdent) == 0

    kept = capture.capture(db_session, principal, document, error_behaviour=capture.PROCEED)
    assert kept.job.stored_count == 1
    assert _serials_by_event(db_session) == {"1": {"1"}}


def test_a_bad_event_in_a_later_round_stores_nothing_under_rollback_and_is_pointed_at(
    db_session: Session,
) -> None:
    """Rounds are validated while earlier ones are stored: a mistake in the second round undoes
    the first, reports the field, and under proceed the others are kept."""
    principal = _principal(db_session)
    count = 2 * capture._PIPELINE_CHUNK
    late = capture._PIPELINE_CHUNK + 7
    events = [_event(str(i)) for i in range(count)]
    events[late]["action"] = "SHOUT"
    outcome = capture.capture(db_session, principal, _doc(*events))
    assert outcome.rejected
    assert [(e.field, e.code) for e in outcome.errors] == [
        (f"/epcisBody/eventList/{late}/action", "invalid_action")
    ]
    assert (_count(db_session, EpcisEvent), _count(db_session, EventIdent)) == (0, 0)
    assert _count(db_session, EventLink) == 0

    kept = capture.capture(db_session, principal, _doc(*events), error_behaviour=capture.PROCEED)
    assert kept.job.stored_count == count - 1
    assert _serials_by_event(db_session) == {str(i): {str(i)} for i in range(count) if i != late}
